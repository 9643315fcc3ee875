"""Timed Pod changes: from the start of the API write to the event's arrival on NATS,
and to the first routing decision of the picker that reflects the change.

Each sample takes one Pod (round robin) through NotReady (EndpointRemoved), Ready again
(EndpointUpserted); every other sample also deletes it (EndpointRemoved) and recreates
it Ready (not timed). The clock starts just before the write request is sent, so each
figure includes the write itself, the API server's watch fan-out, ingest's reconcile
and publish, and JetStream delivery to a subscriber; the routing figure also the
picker's read and fold of the event. While a change is timed, a
:class:`~bench.ingest_kube.routing.RoutingProbe` asks the picker, one request at a time,
where a request restricted to that Pod's endpoint goes; the routing time is the start
of the first request whose answer shows the change. Before each sample the picker is
seen routing to the Pod, so every timed change starts from the old decision.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field

from kubernetes_asyncio import client

from bench.ingest_kube.routing import RoutingProbe
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
    not_ready_to_unroutable: list[float] = field(default_factory=list)
    ready_to_routed: list[float] = field(default_factory=list)
    deleted_to_unroutable: list[float] = field(default_factory=list)
    probe_intervals: list[float] = field(default_factory=list)  # between probe starts


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


ROUTING_TIMEOUT_S = 30.0


@dataclass
class _Change:
    """What one timed change waits for: an event on NATS and a routing decision."""

    arrivals: Arrivals
    router: RoutingProbe
    result: Latencies
    address: str

    async def timed(self, *, up: bool, change: Awaitable[object]) -> tuple[float, float]:
        """Seconds from just before the write to the event and to the new decision."""
        future = self.arrivals.expect("up" if up else "down", self.address)
        start = time.perf_counter()
        # The routing probe's first request goes out while the write is in flight.
        routing = asyncio.ensure_future(
            self.router.first(self.address, routed=up, timeout_s=ROUTING_TIMEOUT_S)
        )
        try:
            await change
            written = time.perf_counter()
            arrived = await asyncio.wait_for(future, 30)
            decided = await routing
        finally:
            routing.cancel()
        self.result.writes.append(written - start)
        self.result.after_write.append(max(0.0, arrived - written))
        return arrived - start, decided - start


async def _sample(
    core: client.CoreV1Api, change: _Change, name: str, ip: str, *, delete: bool
) -> None:
    result, address = change.result, change.address
    await change.router.first(address, routed=True, timeout_s=ROUTING_TIMEOUT_S)
    event, routed = await change.timed(up=False, change=set_ready(core, name, ip, ready=False))
    result.not_ready_to_removed.append(event)
    result.not_ready_to_unroutable.append(routed)
    event, routed = await change.timed(up=True, change=set_ready(core, name, ip, ready=True))
    result.ready_to_upserted.append(event)
    result.ready_to_routed.append(routed)
    if not delete:
        return
    event, routed = await change.timed(up=False, change=core.delete_namespaced_pod(name, NAMESPACE))
    result.deleted_to_removed.append(event)
    result.deleted_to_unroutable.append(routed)
    back = change.arrivals.expect("up", address)
    await core.create_namespaced_pod(NAMESPACE, pod_body(name))  # type: ignore[arg-type]
    await set_ready(core, name, ip, ready=True)
    await asyncio.wait_for(back, 30)


async def probe(stack: Stack, *, pods: int, samples: int) -> Latencies:
    arrivals = Arrivals()
    result = Latencies()
    core = stack.core
    async with (
        NatsEventBus(stack.nats_url, name="bench-observer") as bus,
        RoutingProbe(stack.picker_target) as router,
    ):
        await bus.follow(STATE, pool_filter(stack.pool_key), arrivals.on_event, deliver=Deliver.NEW)
        await asyncio.sleep(0.5)
        for sample in range(samples):
            index = sample % pods
            name, ip = f"pod-{index}", pod_ip(index)
            change = _Change(arrivals, router, result, f"{ip}:{PORT}")
            await _sample(core, change, name, ip, delete=sample % 2 == 0)
            await asyncio.sleep(0.05)
        result.probe_intervals = list(router.intervals)
    return result
