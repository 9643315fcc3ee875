"""One router process started by the benchmark: spawned in its own session, awaited until
its health URL answers, stopped by process group."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench.errors import ArmStartError
from bench.processes import stop_group
from gie_cli.devstack import PartStartError
from gie_cli.devstack.processes import spawn
from gie_cli.devstack.readiness import local_http_client, probe, wait_until_ready
from gie_cli.devstack.state import ProcessRecord

__all__ = ["LaunchedRouter", "launch_router"]


class LaunchedRouter:
    """A running single-process router (it may have threads or child processes)."""

    def __init__(
        self, name: str, url: str, record: ProcessRecord, child: subprocess.Popen[bytes]
    ) -> None:
        self._name = name
        self._url = url
        self.record = record
        self._child = child

    @property
    def url(self) -> str:
        return self._url

    @property
    def router_groups(self) -> Mapping[str, int]:
        return {self._name: self.record.pid}

    @property
    def support_groups(self) -> Mapping[str, int]:
        return {}

    async def stop(self) -> None:
        await stop_group(self._child)


async def launch_router(
    name: str,
    argv: Sequence[str],
    *,
    url: str,
    health_url: str,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 60.0,
) -> LaunchedRouter:
    """Start ``argv`` and wait until ``health_url`` answers 200; stop it and raise otherwise."""
    child, record = spawn(name, argv, env={**os.environ, **(env or {})}, log_path=log_path)
    router = LaunchedRouter(name, url, record, child)
    try:
        async with local_http_client() as http:

            async def healthy() -> bool:
                return await probe(http, health_url)

            await wait_until_ready(
                part=name, check=healthy, child=child, log_path=log_path, timeout_s=timeout_s
            )
    except PartStartError as exc:
        await router.stop()
        raise ArmStartError(name, exc.reason, log_path=log_path, tail=exc.log_tail) from exc
    except BaseException:
        await router.stop()
        raise
    return router
