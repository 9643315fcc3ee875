"""The ``bare-N`` arms: N ``bare_server.py`` processes, each on its own ext_proc port."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from bench.picker_overhead.processes import ProcessSet, program
from bench.picker_overhead.shared_servers import SharedServers
from gie_cli.devstack import free_ports

__all__ = ["BareServers", "start_bare"]


async def _read_count(port: int) -> int | None:
    """The stream count a bare server tells on its stats port; None when it does not answer."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None
    try:
        line = await reader.readline()
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return int(line) if line.strip().isdigit() else None


@dataclass(frozen=True, slots=True)
class BareServers:
    ports: tuple[int, ...]
    stats_ports: tuple[int, ...]
    pgids: tuple[int, ...]

    async def stream_counts(self) -> tuple[int, ...]:
        counts = [await _read_count(port) for port in self.stats_ports]
        return tuple(count or 0 for count in counts)


async def start_bare(procs: ProcessSet, *, workers: int, shared: SharedServers) -> BareServers:
    """Start ``workers`` bare servers routing to ``shared.destination``; wait for each."""
    ports = free_ports(2 * workers)
    grpc_ports, stats_ports = tuple(ports[:workers]), tuple(ports[workers:])
    started = []
    for index, (grpc_port, stats_port) in enumerate(zip(grpc_ports, stats_ports, strict=True)):
        argv = program("bare_server.py", "--port", str(grpc_port), "--stats-port", str(stats_port))
        started.append(procs.start(f"bare-{index}", [*argv, "--destination", shared.destination]))
    for server, stats_port in zip(started, stats_ports, strict=True):

        async def answers(port: int = stats_port) -> bool:  # stats opens after gRPC started
            return await _read_count(port) is not None

        await procs.wait_ready(server, answers, timeout_s=30.0)
    return BareServers(
        ports=grpc_ports, stats_ports=stats_ports, pgids=tuple(s.pid for s in started)
    )
