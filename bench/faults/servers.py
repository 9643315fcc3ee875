"""The model servers: one ``gie_sim`` process per server, each on a fixed port.

A server killed or stopped is that process only; :meth:`ModelServers.restart` starts
it again on the same address, so the pool (and Envoy's cluster) need not change.
Processes are signalled by the pid this module started, never by name.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from gie_cli.devstack import free_ports

__all__ = ["ModelServers"]

_HOST = "127.0.0.1"


class ModelServers:
    def __init__(
        self, directory: Path, *, count: int, model: str, time_scale: float, max_num_seqs: int
    ) -> None:
        self._directory = directory
        self._max_num_seqs = max_num_seqs
        self._model = model
        self._time_scale = time_scale
        self.addresses = [f"{_HOST}:{port}" for port in free_ports(count)]
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._starts = 0

    def _spawn(self, address: str) -> subprocess.Popen[bytes]:
        self._starts += 1
        index = self.addresses.index(address)
        ready = self._directory / f"sim-{index}.ready.json"
        ready.unlink(missing_ok=True)
        argv = [sys.executable, "-m", "gie_sim", "--listen", address]
        argv += ["--time-scale", f"{self._time_scale:g}", "--model", self._model]
        argv += ["--max-num-seqs", str(self._max_num_seqs)]
        argv += ["--ready-file", str(ready), "--log-level", "WARNING"]
        log_path = self._directory / f"sim-{index}.{self._starts}.log"
        self._directory.mkdir(parents=True, exist_ok=True)
        with log_path.open("wb") as log:
            return subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True)

    async def _wait_ready(self, address: str, *, timeout_s: float = 60.0) -> None:
        ready = self._directory / f"sim-{self.addresses.index(address)}.ready.json"
        deadline = time.monotonic() + timeout_s
        while not ready.exists():
            proc = self._procs[address]
            if proc.poll() is not None:
                raise RuntimeError(f"model server {address} exited with {proc.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"model server {address} not ready within {timeout_s:g}s")
            await asyncio.sleep(0.05)

    async def start(self) -> None:
        for address in self.addresses:
            self._procs[address] = self._spawn(address)
        await asyncio.gather(*(self._wait_ready(address) for address in self.addresses))

    def signal(self, address: str, sig: signal.Signals) -> None:
        proc = self._procs[address]
        if proc.poll() is None:
            os.kill(proc.pid, sig)

    async def kill(self, address: str) -> None:
        self.signal(address, signal.SIGKILL)
        await asyncio.to_thread(self._procs[address].wait)

    async def restart(self, address: str) -> None:
        """Start the (dead) server again on its address and wait until it listens."""
        if self._procs[address].poll() is None:
            raise RuntimeError(f"model server {address} is still running")
        self._procs[address] = self._spawn(address)
        await self._wait_ready(address)

    async def stop(self) -> None:
        for proc in self._procs.values():
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGCONT)  # a stopped one would not see SIGTERM
                proc.terminate()
        for proc in self._procs.values():
            try:
                await asyncio.to_thread(proc.wait, 10)
            except subprocess.TimeoutExpired:
                proc.kill()
                await asyncio.to_thread(proc.wait, 5)
