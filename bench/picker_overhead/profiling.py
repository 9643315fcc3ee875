"""Optional sampling profiles of the ext_proc servers during the saturated window.

With ``--profile DIR`` the harness runs ``py-spy record`` (``pip install py-spy``)
against each arm's ext_proc process group leader, children included (the picker's
workers), for exactly the saturated window, non-blocking so the servers are not paused.
Each profile is written as collapsed stacks (``DIR/<round>-<arm>.txt``); the hot spots
(share of samples per function, on top of the stack and anywhere in it) go to
``DIR/<round>-<arm>.hotspots.txt``. py-spy costs CPU of its own: numbers from a
profiled run are for reading profiles, not for the results table.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import signal
import sys
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Self

from bench.picker_overhead.errors import OverheadBenchError

__all__ = ["PySpy", "find_py_spy", "hot_spots", "write_hot_spots"]

_TOP = 25
_RATE = 200  # samples a second
# A py-spy frame is "function (file:line)" or "function (file)"; process roots are not code.
_FRAME = re.compile(r"^(?P<function>.+) \((?P<file>[^()]+?)(?::\d+)?\)$")


def find_py_spy() -> str:
    """Path of py-spy (next to this interpreter, or on PATH)."""
    candidate = Path(sys.executable).with_name("py-spy")
    found = str(candidate) if candidate.exists() else shutil.which("py-spy")
    if found is None:
        raise OverheadBenchError("--profile needs py-spy: pip install py-spy")
    return found


class PySpy:
    """One ``py-spy record`` attached to a process and its children until stopped."""

    def __init__(self, process: asyncio.subprocess.Process, output: Path) -> None:
        self._process = process
        self.output = output

    @classmethod
    async def attach(cls, pid: int, output: Path) -> PySpy:
        argv = [find_py_spy(), "record", "--pid", str(pid), "--subprocesses", "--nonblocking"]
        argv += ["--nolineno", "--rate", str(_RATE), "--format", "raw", "--output", str(output)]
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        await asyncio.sleep(0.5)  # let it attach before the window opens
        return cls(process, output)

    async def stop(self) -> None:
        """SIGINT: py-spy writes its output and exits (killed after 30 s)."""
        if self._process.returncode is None:
            self._process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(self._process.wait(), 30.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            await self._process.wait()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def _code_frames(stack: str) -> list[str]:
    frames = []
    for frame in stack.split(";"):
        match = _FRAME.match(frame)
        if match is not None:
            frames.append(f"{match['function']} ({match['file']})")
    return frames


def hot_spots(collapsed: Path, *, top: int = _TOP) -> str:
    """A table of the functions with most samples: on top of the stack (self), and anywhere."""
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count, frames = int(count_text), _code_frames(stack)
        total += count
        if frames:
            own[frames[-1]] += count
        for frame in set(frames):
            anywhere[frame] += count
    if total == 0:
        return "no samples"
    lines = [f"{total} samples; % of samples with the function on top (self) / anywhere"]
    for frame, count in own.most_common(top):
        lines.append(f"{count * 100 / total:5.1f}% {anywhere[frame] * 100 / total:5.1f}%  {frame}")
    lines += ["", "Most inclusive:"]
    for frame, count in anywhere.most_common(top):
        lines.append(f"{count * 100 / total:5.1f}%  {frame}")
    return "\n".join(lines)


def write_hot_spots(collapsed: Path) -> Path | None:
    """Write ``<name>.hotspots.txt`` next to a collapsed profile; None when there is none."""
    if not collapsed.exists() or collapsed.stat().st_size == 0:
        return None
    target = collapsed.with_suffix(".hotspots.txt")
    target.write_text(hot_spots(collapsed) + "\n", encoding="utf-8")
    return target
