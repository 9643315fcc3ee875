"""What every arm shares: the upstream model servers, and NATS for the picker arms.

Started once per run: ``upstream_server.py`` on ``endpoints`` loopback ports (one
process), then nats-server. The arms without a picker (``envoy-direct``, ``bare-*``)
send everything to the first upstream; each picker arm publishes its own pool
(:mod:`.pool_events`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.picker_overhead.nats_server import NatsServer, start_nats
from bench.picker_overhead.processes import ProcessSet, program
from gie_cli.devstack import free_ports

__all__ = ["SharedServers", "start_shared"]


@dataclass(frozen=True, slots=True)
class SharedServers:
    addresses: tuple[str, ...]  # the upstreams, ip:port: the pool the picker sees
    upstreams_pid: int  # also its process-group id
    nats: NatsServer
    picker_pythonpath: str = ""  # first on the picker's PYTHONPATH ("": the installed gie)

    @property
    def destination(self) -> str:
        """The one endpoint of the arms that do not pick (direct and bare)."""
        return self.addresses[0]


async def _all_listen(ports: Sequence[int]) -> bool:
    for port in ports:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return True


async def start_shared(
    procs: ProcessSet, *, endpoints: int, run_dir: Path, picker_pythonpath: str = ""
) -> SharedServers:
    """Start the upstreams and NATS; both owned by ``procs``."""
    ports = free_ports(endpoints)
    upstreams = procs.start(
        "upstreams", program("upstream_server.py", "--ports", ",".join(map(str, ports)))
    )

    async def listening() -> bool:
        return await _all_listen(ports)

    await procs.wait_ready(upstreams, listening, timeout_s=30.0)
    nats = await start_nats(procs, store_dir=run_dir / "nats-store")
    addresses = tuple(f"127.0.0.1:{port}" for port in ports)
    return SharedServers(
        addresses=addresses,
        upstreams_pid=upstreams.pid,
        nats=nats,
        picker_pythonpath=picker_pythonpath,
    )
