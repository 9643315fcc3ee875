"""Start and stop several simulated servers inside the current event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from gie.clock import Clock
from gie_sim.config import SimConfig
from gie_sim.server import SimServer

__all__ = ["run_servers", "start_servers", "stop_servers"]


def _plan(
    count: int | None,
    config: SimConfig | Sequence[SimConfig] | None,
    ports: Sequence[int] | None,
    hosts: Sequence[str] | None,
) -> list[tuple[SimConfig, int, str | None]]:
    sizes = {len(ports)} if ports else set()
    if hosts:
        sizes.add(len(hosts))
    if isinstance(config, Sequence):
        sizes.add(len(config))
    if count is not None:
        sizes.add(count)
    if len(sizes) > 1:
        raise ValueError(
            f"count, ports, hosts and configs disagree on the number of servers: {sizes}"
        )
    total = sizes.pop() if sizes else 1
    if total < 1:
        raise ValueError("need at least one server")
    if isinstance(config, Sequence):
        configs = list(config)
    else:
        configs = [config if config is not None else SimConfig()] * total
    per_host: Sequence[str | None] = hosts or [None] * total
    return list(zip(configs, ports or [0] * total, per_host, strict=True))


async def start_servers(
    count: int | None = None,
    *,
    config: SimConfig | Sequence[SimConfig] | None = None,
    host: str = "127.0.0.1",
    ports: Sequence[int] | None = None,
    hosts: Sequence[str] | None = None,
    clock: Clock | None = None,
) -> list[SimServer]:
    """Start servers (ephemeral ports unless ``ports`` is given) and return them, started.

    ``config`` is either shared by all servers or one per server. Every server binds
    ``host`` unless ``hosts`` gives each its own address (``127.0.0.2``, ``127.0.0.3``,
    ... so several can share one port, as Pods of a pool do). If any server fails to
    start, the ones already started are stopped and the error is raised.
    """
    servers: list[SimServer] = []
    try:
        for index, (server_config, port, own_host) in enumerate(_plan(count, config, ports, hosts)):
            server = SimServer(
                server_config, host=own_host or host, port=port, clock=clock, index=index
            )
            await server.start()
            servers.append(server)
    except BaseException:
        await stop_servers(servers)
        raise
    return servers


async def stop_servers(servers: Sequence[SimServer]) -> None:
    """Stop servers concurrently."""
    await asyncio.gather(*(server.stop() for server in servers))


@asynccontextmanager
async def run_servers(
    count: int | None = None,
    *,
    config: SimConfig | Sequence[SimConfig] | None = None,
    host: str = "127.0.0.1",
    ports: Sequence[int] | None = None,
    hosts: Sequence[str] | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[list[SimServer]]:
    """``async with run_servers(count=2) as servers: servers[0].address`` -- see
    :func:`start_servers` for the arguments; all servers are stopped on exit."""
    servers = await start_servers(
        count, config=config, host=host, ports=ports, hosts=hosts, clock=clock
    )
    try:
        yield servers
    finally:
        await stop_servers(servers)
