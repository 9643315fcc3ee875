"""nats-server with JetStream for the picker arms, its store in the run's directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.picker_overhead.processes import ProcessSet
from gie_cli.devstack import find_nats_server, free_ports
from gie_cli.devstack.readiness import local_http_client, probe

__all__ = ["NatsServer", "start_nats"]


@dataclass(frozen=True, slots=True)
class NatsServer:
    url: str  # nats://127.0.0.1:<port>
    pid: int  # also its process-group id


async def start_nats(procs: ProcessSet, *, store_dir: Path) -> NatsServer:
    """Start nats-server on free loopback ports; wait until JetStream is enabled."""
    port, monitor = free_ports(2)
    argv = [str(find_nats_server()), "-js", "-sd", str(store_dir), "-a", "127.0.0.1"]
    argv += ["-p", str(port), "-m", str(monitor), "-n", f"bench-picker-overhead-{port}"]
    server = procs.start("nats-server", argv)
    health = f"http://127.0.0.1:{monitor}/healthz?js-enabled-only=true"
    async with local_http_client() as client:

        async def ready() -> bool:
            return await probe(client, health)

        await procs.wait_ready(server, ready, timeout_s=30.0)
    return NatsServer(url=f"nats://127.0.0.1:{port}", pid=server.pid)
