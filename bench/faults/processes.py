"""Killing and restarting one process of a running local stack.

:func:`kill_process` SIGKILLs the process's whole group (a picker replica's workers
too); :func:`restart_process` starts it again with the same command line and
environment (read from ``/proc`` before the kill) and records the new pid in the
stack's state, so stopping the stack stops it. Only the recorded pid is signalled,
and only while ``/proc`` proves it is still the process the stack started.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from gie_cli.devstack import RunningStack
from gie_cli.devstack.processes import is_ours, spawn
from gie_cli.devstack.readiness import local_http_client, probe

__all__ = ["Stopped", "kill_process", "restart_process", "wait_healthy"]


@dataclass(frozen=True, kw_only=True)
class Stopped:
    """What it takes to start a killed process again."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(): value.decode() for key, value in pairs}


async def kill_process(stack: RunningStack, name: str) -> Stopped:
    """SIGKILL process ``name`` of the stack (its group) and wait until it is gone."""
    record = stack.state.process(name)
    if not is_ours(record):
        raise RuntimeError(f"stack process {name} is not running")
    stopped = Stopped(name=name, argv=record.argv, env=_environ(record.pid), log=record.log)
    os.killpg(record.pid, signal.SIGKILL)
    for _ in range(1000):  # 10 s at most
        if not is_ours(record):
            break
        await asyncio.sleep(0.01)
    return stopped


def restart_process(stack: RunningStack, stopped: Stopped) -> subprocess.Popen[bytes]:
    """Start ``stopped`` again (same argv and environment); its log gets a new file.
    Returns the child, for the caller to reap."""
    log = stopped.log.with_name(f"{stopped.log.stem}.{time.monotonic_ns()}{stopped.log.suffix}")
    child, record = spawn(stopped.name, stopped.argv, env=stopped.env, log_path=log)
    processes = [record if p.name == stopped.name else p for p in stack.state.processes]
    stack.state = stack.state.model_copy(update={"processes": processes})
    stack.store.save(stack.state)
    return child


async def wait_healthy(stack: RunningStack, name: str, *, timeout_s: float = 60.0) -> None:
    """Until every part that process ``name`` serves answers its health URL."""
    urls = [part.health_url for part in stack.state.parts if part.process == name]
    deadline = time.monotonic() + timeout_s
    async with local_http_client() as client:
        while True:
            results = await asyncio.gather(*(probe(client, url) for url in urls))
            if all(results):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not healthy {timeout_s:g}s after its restart")
            await asyncio.sleep(0.05)
