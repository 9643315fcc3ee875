"""Processes a benchmark run starts on loopback: spawned with a log file each, waited
for over HTTP, and stopped (newest first) by the handles held here."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import httpx

from gie_cli.devstack.binaries import find_nats_server
from gie_cli.devstack.ports import free_ports

__all__ = ["LocalProcs", "local_procs"]


class LocalProcs:
    """The processes of one run; each logs to ``<logs>/<name>.log``."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = []
        logs.mkdir(parents=True, exist_ok=True)

    def spawn(
        self, name: str, argv: list[str], env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=log, env=env, start_new_session=True)
        self.procs.append(proc)
        return proc

    async def wait_http(
        self, url: str, proc: subprocess.Popen[bytes], what: str, timeout_s: float
    ) -> None:
        """Until ``url`` answers 200; RuntimeError if ``proc`` exits or time runs out."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        async with httpx.AsyncClient(timeout=1) as http:
            while asyncio.get_running_loop().time() < deadline:
                if proc.poll() is not None:
                    raise RuntimeError(f"{what} exited with {proc.returncode} during start-up")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(url)).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{what} not ready within {timeout_s}s")

    async def start_nats(self, store: Path) -> tuple[subprocess.Popen[bytes], str]:
        """nats-server with JetStream (a fresh store in ``store``); its process and URL."""
        port, monitor = free_ports(2)
        shutil.rmtree(store, ignore_errors=True)
        nats = self.spawn(
            "nats",
            [
                str(find_nats_server()),
                *("-a", "127.0.0.1", "-p", str(port), "-m", str(monitor)),
                *("-js", "-sd", str(store)),
            ],
        )
        health = f"http://127.0.0.1:{monitor}/healthz?js-enabled-only=true"
        await self.wait_http(health, nats, "nats", 15)
        return nats, f"nats://127.0.0.1:{port}"

    def stop(self) -> None:
        """Terminate every process still running, newest first; kill what lingers."""
        procs = self.procs[::-1]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


@contextlib.asynccontextmanager
async def local_procs(logs: Path) -> AsyncIterator[LocalProcs]:
    procs = LocalProcs(logs)
    try:
        yield procs
    finally:
        procs.stop()
