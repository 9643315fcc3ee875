"""Reading the event stream in bursts (``NatsEventBus.read_in_bursts``) on real NATS:
events wait until the gate is poked, settled or its delay passes; none is lost or
reordered."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from gie.bus import EVENTS, Deliver, NatsEventBus
from gie.devstack.ports import free_port
from gie.events import Event, RequestRouted
from gie.events.subjects import pool_prefix, routing_subject
from tests.support.flow_replicas import eventually
from tests.support.servers import nats_server

pytestmark = pytest.mark.integration


def routed(pool: str, n: int) -> RequestRouted:
    return RequestRouted(
        source="t",
        pool=pool,
        correlation_id=f"r{n}",
        request_id=f"r{n}",
        model="m",
        target="10.0.0.1:8000",
        picker="t",
    )


async def following_bus(nats_url: str, pool: str, seen: list[Event]) -> NatsEventBus:
    bus = NatsEventBus(nats_url, name="gated")
    await bus.connect()
    await bus.ensure_streams()
    following = await bus.follow(
        EVENTS, f"{pool_prefix(pool)}.routing.>", seen.append, deliver=Deliver.NEW
    )
    await asyncio.wait_for(following.caught_up.wait(), 10)
    return bus


async def publish(nats_url: str, pool: str, numbers: range) -> None:
    async with NatsEventBus(nats_url, name="publisher") as publisher:
        for n in numbers:
            await publisher.publish(routing_subject(pool, "routed"), routed(pool, n))


async def test_events_wait_for_settle_then_arrive_complete_and_in_order(nats_url: str) -> None:
    pool = f"gate/{uuid.uuid4().hex[:8]}"
    seen: list[Event] = []
    bus = await following_bus(nats_url, pool, seen)
    try:
        gate = bus.read_in_bursts(max_delay_s=30.0)  # no timer read during the test
        await publish(nats_url, pool, range(50))
        await asyncio.sleep(0.3)  # long enough for every event to reach the socket
        assert seen == []  # waiting in the socket, not read
        await gate.settle()
        assert [e.request_id for e in seen if isinstance(e, RequestRouted)] == [
            f"r{n}" for n in range(50)
        ]
        await gate.settle()  # nothing waiting: returns at once
        assert len(seen) == 50
    finally:
        await bus.close()


async def test_a_poke_reads_what_has_arrived(nats_url: str) -> None:
    pool = f"gate/{uuid.uuid4().hex[:8]}"
    seen: list[Event] = []
    bus = await following_bus(nats_url, pool, seen)
    try:
        gate = bus.read_in_bursts(max_delay_s=30.0)
        await publish(nats_url, pool, range(3))
        await asyncio.sleep(0.3)
        assert seen == []
        gate.poke()
        for _ in range(10):
            await asyncio.sleep(0)
        assert len(seen) == 3
    finally:
        await bus.close()


async def test_an_idle_gate_still_reads_within_its_delay(nats_url: str) -> None:
    pool = f"gate/{uuid.uuid4().hex[:8]}"
    seen: list[Event] = []
    bus = await following_bus(nats_url, pool, seen)
    try:
        gate = bus.read_in_bursts(max_delay_s=0.2)
        await publish(nats_url, pool, range(5))

        async def all_read() -> bool:
            return len(seen) == 5

        await eventually(all_read, timeout_s=2.0, what="the timer's read")
        assert gate.bursts >= 1
    finally:
        await bus.close()


async def test_publishing_is_not_held_by_a_closed_gate(nats_url: str) -> None:
    pool = f"gate/{uuid.uuid4().hex[:8]}"
    seen: list[Event] = []
    watcher: list[Event] = []
    bus = await following_bus(nats_url, pool, seen)
    observer = await following_bus(nats_url, pool, watcher)
    try:
        bus.read_in_bursts(max_delay_s=30.0)
        for n in range(5):
            await bus.publish(routing_subject(pool, "routed"), routed(pool, n), confirm=False)

        async def observer_has_them() -> bool:  # the other connection reads as usual
            return len(watcher) == 5

        await eventually(observer_has_them, timeout_s=5.0, what="the published events")
        assert seen == []
    finally:
        await observer.close()
        await bus.close()


async def test_burst_reading_survives_a_nats_restart(tmp_path: Path) -> None:
    pool = f"gate/{uuid.uuid4().hex[:8]}"
    port, store = free_port(), str(tmp_path / "jetstream")
    seen: list[Event] = []

    def ids() -> list[str]:
        return [e.request_id for e in seen if isinstance(e, RequestRouted)]

    async def count_is(n: int) -> bool:
        return len(ids()) == n

    with nats_server(port=port, store=store) as url:
        bus = await following_bus(url, pool, seen)
        bus.read_in_bursts(max_delay_s=0.1)
        await publish(url, pool, range(2))
        await eventually(lambda: count_is(2), timeout_s=5, what="events before the restart")
    try:
        with nats_server(port=port, store=store) as url:  # same port, same stored stream
            await publish(url, pool, range(2, 4))
            await eventually(lambda: count_is(4), timeout_s=20, what="events after the restart")
        assert ids() == ["r0", "r1", "r2", "r3"]
    finally:
        await bus.close()


async def test_a_backlog_larger_than_one_read_is_drained_by_one_settle(nats_url: str) -> None:
    pool = f"gate/{uuid.uuid4().hex[:8]}"
    seen: list[Event] = []
    bus = await following_bus(nats_url, pool, seen)
    try:
        gate = bus.read_in_bursts(max_delay_s=30.0)
        async with NatsEventBus(nats_url, name="publisher") as publisher:
            big = "x" * 2000  # ~2.4 KB per event: 400 events are ~1 MB, many socket reads
            for n in range(400):
                event = routed(pool, n).model_copy(update={"model": big})
                await publisher.publish(routing_subject(pool, "routed"), event, confirm=False)
            await publisher.publish(routing_subject(pool, "routed"), routed(pool, 400))
        await asyncio.sleep(0.5)
        await gate.settle()
        assert len(seen) == 401
        assert seen[-1].request_id == "r400"  # type: ignore[attr-defined]
    finally:
        await bus.close()
