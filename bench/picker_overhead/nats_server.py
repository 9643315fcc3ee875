"""nats-server with JetStream for the picker arms, its store in the run's directory.

:func:`start_nats` runs it plain and open (the run's shared server);
:func:`start_secure_nats` runs it as ``gie up --secure`` does (TLS required of every
client, a user per service with its permissions), for the ``-tls-bus`` arms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.picker_overhead.processes import ProcessSet
from gie.bus import NatsEventBus
from gie.security import NatsCredentials, identity_of, inbox_prefix
from gie_cli.devstack import find_nats_server, free_ports
from gie_cli.devstack.readiness import local_http_client, probe
from gie_cli.devstack.secure import SecureStack
from gie_cli.devstack.secure_bus import nats_config

__all__ = ["NatsServer", "start_nats", "start_secure_nats"]


@dataclass(frozen=True, slots=True)
class NatsServer:
    url: str  # nats://127.0.0.1:<port>, or tls://
    pid: int  # also its process-group id
    # Service -> how it connects; a service not named connects anonymously.
    credentials: Mapping[str, NatsCredentials] = field(default_factory=dict)

    def bus(self, name: str, *, service: str) -> NatsEventBus:
        """A connection to this server as ``service``."""
        return NatsEventBus(self.url, name=name, credentials=self.credentials.get(service))


async def start_nats(procs: ProcessSet, *, store_dir: Path) -> NatsServer:
    """Start nats-server on free loopback ports; wait until JetStream is enabled."""
    port, monitor = free_ports(2)
    server = await _start(procs, store_dir=store_dir, port=port, monitor=monitor)
    return NatsServer(url=f"nats://127.0.0.1:{port}", pid=server)


async def start_secure_nats(
    procs: ProcessSet, *, store_dir: Path, secure: SecureStack
) -> NatsServer:
    """Start nats-server with ``secure``'s certificate, users and permissions."""
    port, monitor = free_ports(2)
    config = nats_config(
        store_dir.parent / "nats.conf", secrets_=secure.bus.secrets, tls=secure.bus_tls
    )
    pid = await _start(procs, store_dir=store_dir, port=port, monitor=monitor, config=config)
    credentials = {}
    for service in ("ingest", "metrics-collector", "picker"):
        identity = identity_of(service)
        credentials[service] = NatsCredentials(
            user=identity.user,
            password_file=secure.bus.secrets.nats_password_file(identity.user),
            tls_ca_file=secure.ca.ca_path,
            inbox_prefix=inbox_prefix(identity),
        )
    return NatsServer(url=f"tls://127.0.0.1:{port}", pid=pid, credentials=credentials)


async def _start(
    procs: ProcessSet, *, store_dir: Path, port: int, monitor: int, config: Path | None = None
) -> int:
    argv = [str(find_nats_server()), "-js", "-sd", str(store_dir), "-a", "127.0.0.1"]
    argv += ["-p", str(port), "-m", str(monitor), "-n", f"bench-picker-overhead-{port}"]
    if config is not None:
        argv += ["-c", str(config)]
    server = procs.start("nats-server", argv)
    health = f"http://127.0.0.1:{monitor}/healthz?js-enabled-only=true"
    async with local_http_client() as client:

        async def ready() -> bool:
            return await probe(client, health)

        await procs.wait_ready(server, ready, timeout_s=30.0)
    return server.pid
