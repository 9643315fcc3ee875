"""Timed Pod changes: from the start of the API write to the event's arrival on NATS.

Each sample takes one Pod (round robin) through NotReady (EndpointRemoved), Ready again
(EndpointUpserted); every other sample also deletes it (EndpointRemoved) and recreates
it Ready (not timed). The clock starts just before the write request is sent, so each
figure includes the write itself, the API server's watch fan-out, ingest's reconcile
and publish, and JetStream delivery to a subscriber.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field

from bench.ingest_kube.stack import NAMESPACE, PORT, Stack, pod_body, pod_ip, set_ready
from gie.bus import STATE, Deliver, NatsEventBus
from gie.events import EndpointRemoved, EndpointUpserted, Event
from gie.events.subjects import pool_filter


@dataclass
class Latencies:
    not_ready_to_removed: list[float] = field(default_factory=list)
    ready_to_upserted: list[float] = field(default_factory=list)
    deleted_to_removed: list[float] = field(default_factory=list)
    writes: list[float] = field(default_factory=list)  # the API write alone, every change
    after_write: list[float] = field(default_factory=list)  # write answered -> event


class Arrivals:
    """Futures resolved when an event of a kind for an address arrives."""

    def __init__(self) -> None:
        self._waiting: dict[tuple[str, str], asyncio.Future[float]] = {}

    def expect(self, kind: str, address: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[(kind, address)] = future
        return future

    def on_event(self, event: Event) -> None:
        now = time.perf_counter()
        if isinstance(event, EndpointUpserted):
            key = ("up", event.endpoint.address)
        elif isinstance(event, EndpointRemoved):
            key = ("down", event.address)
        else:
            return
        future = self._waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_result(now)


async def _timed(
    arrivals: Arrivals, kind: str, address: str, change: Awaitable[object], result: Latencies
) -> float:
    future = arrivals.expect(kind, address)
    start = time.perf_counter()
    await change
    written = time.perf_counter()
    arrived = await asyncio.wait_for(future, 30)
    result.writes.append(written - start)
    result.after_write.append(max(0.0, arrived - written))
    return arrived - start


async def probe(stack: Stack, *, pods: int, samples: int) -> Latencies:
    arrivals = Arrivals()
    result = Latencies()
    core = stack.core
    async with NatsEventBus(stack.nats_url, name="bench-observer") as bus:
        await bus.follow(STATE, pool_filter(stack.pool_key), arrivals.on_event, deliver=Deliver.NEW)
        await asyncio.sleep(0.5)
        for sample in range(samples):
            index = sample % pods
            name, ip = f"pod-{index}", pod_ip(index)
            address = f"{ip}:{PORT}"
            result.not_ready_to_removed.append(
                await _timed(
                    arrivals, "down", address, set_ready(core, name, ip, ready=False), result
                )
            )
            result.ready_to_upserted.append(
                await _timed(arrivals, "up", address, set_ready(core, name, ip, ready=True), result)
            )
            if sample % 2 == 0:
                result.deleted_to_removed.append(
                    await _timed(
                        arrivals,
                        "down",
                        address,
                        core.delete_namespaced_pod(name, NAMESPACE),
                        result,
                    )
                )
                back = arrivals.expect("up", address)
                await core.create_namespaced_pod(NAMESPACE, pod_body(name))  # type: ignore[arg-type]
                await set_ready(core, name, ip, ready=True)
                await asyncio.wait_for(back, 30)
            await asyncio.sleep(0.05)
    return result
