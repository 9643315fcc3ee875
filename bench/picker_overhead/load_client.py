"""The harness's handle on one load-generator process (the program is ``loadgen.py``).

``async with await LoadClient.start(...) as load`` starts the generator in its own session;
``await load.run(requests=..., concurrency=...)`` (or ``rate=...``) sends one phase and returns its
:class:`~bench.picker_overhead.results.PhaseResult`. Leaving the block closes the
generator's stdin (it exits) and kills its group if it has not gone within 10 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from bench.picker_overhead.errors import LoadError
from bench.picker_overhead.processes import child_env, program
from bench.picker_overhead.results import PhaseResult
from gie_cli.devstack.readiness import log_tail

__all__ = ["LoadClient"]


def _append(path: Path) -> BinaryIO:
    """The log file, opened for appending (a local file: no wait worth a thread)."""
    return open(path, "ab")


class LoadClient:
    """One running ``loadgen.py``: phases in over stdin, results out over stdout."""

    def __init__(self, process: asyncio.subprocess.Process, log_path: Path) -> None:
        self._process = process
        self._log_path = log_path

    @classmethod
    async def start(cls, *, url: str, headers: Mapping[str, str], log_path: Path) -> LoadClient:
        argv = program("loadgen.py", "--url", url)
        for name, value in headers.items():
            argv += ["--header", f"{name}: {value}"]
        with _append(log_path) as log:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                env=child_env(),
                start_new_session=True,
            )
        return cls(process, log_path)

    @property
    def pid(self) -> int:
        """The generator's pid, also its process-group id."""
        return self._process.pid

    async def run(
        self, *, requests: int, timeout_s: float, concurrency: int = 0, rate: float = 0.0
    ) -> PhaseResult:
        """Run one phase, closed loop (``concurrency``) or paced (``rate`` per second).

        LoadError when the generator dies or exceeds ``timeout_s``.
        """
        stdin, stdout = self._process.stdin, self._process.stdout
        if stdin is None or stdout is None:  # both are pipes (see start): cannot happen
            raise LoadError("the load generator has no stdin/stdout pipes")
        phase = {"requests": requests, "concurrency": concurrency, "rate": rate}
        stdin.write(json.dumps(phase).encode())
        stdin.write(b"\n")
        try:
            await stdin.drain()
            line = await asyncio.wait_for(stdout.readline(), timeout_s)
        except (TimeoutError, ConnectionError) as exc:
            raise LoadError(self._failure(f"no result within {timeout_s:g}s")) from exc
        if not line:
            raise LoadError(self._failure("the load generator exited"))
        return PhaseResult.from_json(json.loads(line))

    def _failure(self, what: str) -> str:
        return f"{what} (log: {self._log_path})\n{log_tail(self._log_path)}"

    async def close(self) -> None:
        if self._process.returncode is None and self._process.stdin is not None:
            self._process.stdin.close()
        try:
            await asyncio.wait_for(self._process.wait(), 10.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)  # our child, not yet reaped
            await self._process.wait()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
