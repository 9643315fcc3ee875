"""The processes one part of the benchmark started, stopped together whatever happens.

:class:`ProcessSet` spawns through :func:`gie_cli.devstack.processes.spawn` (each child in
its own session, so it leads a process group) and stops through
:func:`gie_cli.devstack.processes.stop_process` (SIGTERM to the group, SIGKILL after a
grace period, only while ``/proc`` shows the pid is still the process it started).
Leaving the ``async with`` stops every process it started, last started first, even
when the block raised or was cancelled. Programs of this package are started by path
with the directory holding ``bench`` (the repository root in a checkout) on ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from bench.picker_overhead.errors import ServerStartError
from gie_cli.devstack.errors import PartStartError
from gie_cli.devstack.processes import spawn, stop_process
from gie_cli.devstack.readiness import wait_until_ready
from gie_cli.devstack.state import ProcessRecord

__all__ = ["PACKAGE_DIR", "REPO_ROOT", "ProcessSet", "Started", "child_env", "program"]

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parents[1]


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment, the repository root on ``PYTHONPATH``, plus ``extra``."""
    env = dict(os.environ)
    path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = f"{REPO_ROOT}{os.pathsep}{path}" if path else str(REPO_ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def program(name: str, *args: str) -> list[str]:
    """argv running one of this package's standalone programs (``bare_server.py``, ...)."""
    return [sys.executable, str(PACKAGE_DIR / name), *args]


@dataclass(frozen=True, slots=True)
class Started:
    name: str
    child: subprocess.Popen[bytes]
    record: ProcessRecord
    log_path: Path

    @property
    def pid(self) -> int:
        """The process id, also its process-group id."""
        return self.child.pid


class ProcessSet:
    """Processes started for one purpose; ``async with`` stops them all on the way out."""

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self._started: list[Started] = []

    def start(
        self, name: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None
    ) -> Started:
        """Spawn ``argv``, stdout and stderr to ``<log dir>/<name>.log``."""
        log_path = self._log_dir / f"{name}.log"
        child, record = spawn(name, argv, env=child_env(env), log_path=log_path)
        started = Started(name, child, record, log_path)
        self._started.append(started)
        return started

    async def wait_ready(
        self, started: Started, check: Callable[[], Awaitable[bool]], *, timeout_s: float = 60.0
    ) -> None:
        """Poll ``check`` until it passes; ServerStartError when the process exits or times out."""
        try:
            await wait_until_ready(
                part=started.name,
                check=check,
                child=started.child,
                log_path=started.log_path,
                timeout_s=timeout_s,
            )
        except PartStartError as exc:
            raise ServerStartError(
                started.name, exc.reason, log_path=started.log_path, log_tail=exc.log_tail
            ) from exc

    async def close(self) -> None:
        """Stop every process started here, last first (each one's whole group)."""
        while self._started:
            started = self._started.pop()
            await stop_process(started.record, child=started.child, grace_s=10.0)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
