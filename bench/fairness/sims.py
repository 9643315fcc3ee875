"""The scenario's simulated model servers: one ``gie_sim`` process per phase.

Started outside the devstack (``StackOptions.endpoints``) so a phase chooses their speed
and batch size; stopped by the handle this module returned, never by name.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

__all__ = ["start_sims", "stop_sims"]


def _spawn(argv: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        return subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True)


async def start_sims(
    directory: Path,
    *,
    count: int,
    model: str,
    time_scale: float,
    max_num_seqs: int | None = None,
) -> tuple[subprocess.Popen[bytes], list[str]]:
    """Start ``count`` servers in one process; return it and their ``ip:port``s once ready.

    ``max_num_seqs`` None keeps the simulator's default batch size.
    """
    ready = directory / "sims.json"
    argv = [sys.executable, "-m", "gie_sim", "--count", str(count)]
    if max_num_seqs is not None:
        argv += ["--max-num-seqs", str(max_num_seqs)]
    argv += ["--time-scale", f"{time_scale:g}", "--model", model]
    argv += ["--ready-file", str(ready), "--log-level", "WARNING"]
    proc = _spawn(argv, directory / "sims.log")
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"gie_sim exited with {proc.returncode}; see {directory}/sims.log")
        if ready.exists():
            servers: list[str] = json.loads(ready.read_text(encoding="utf-8"))["servers"]
            return proc, servers
        await asyncio.sleep(0.1)
    stop_sims(proc)
    raise RuntimeError("gie_sim not ready within 60s")


def stop_sims(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
