"""One contract suite for the event bus, run on the in-memory fake and on real NATS."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import nats
import pytest

from gie.bus import EVENTS, STATE, BusMetrics, Deliver, MemoryEventBus, NatsEventBus
from gie.events import Endpoint, EndpointRemoved, EndpointUpserted, Event, RequestRouted
from gie.events.subjects import endpoint_subject, pool_filter, routing_subject

pytestmark = pytest.mark.integration

Bus = MemoryEventBus | NatsEventBus


@pytest.fixture(params=["memory", "nats"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    metrics = BusMetrics(registry=None)
    if request.param == "memory":
        memory = MemoryEventBus(metrics=metrics)
        yield memory
        await memory.close()
        return
    nats_url = request.getfixturevalue("nats_url")
    async with NatsEventBus(nats_url, name="contract-test", metrics=metrics) as nats_bus:
        await nats_bus.ensure_streams()
        await nats_bus.ensure_streams()  # idempotent
        yield nats_bus


@pytest.fixture
def pool() -> str:
    # A fresh pool per test keeps tests independent on a shared server.
    return f"test/{uuid.uuid4().hex[:8]}"


def upsert(pool: str, address: str, name: str = "") -> EndpointUpserted:
    return EndpointUpserted(source="t", pool=pool, endpoint=Endpoint(address=address, name=name))


async def collect(bus: Bus, pool: str, deliver: Deliver, expected: int) -> list[Event]:
    seen: list[Event] = []
    done = asyncio.Event()

    def handler(event: Event) -> None:
        seen.append(event)
        if len(seen) >= expected:
            done.set()

    following = await bus.follow(STATE, pool_filter(pool), handler, deliver=deliver)
    await asyncio.wait_for(following.caught_up.wait(), 10)
    if expected:
        await asyncio.wait_for(done.wait(), 10)
    await following.stop()
    return seen


async def test_replay_all_delivers_every_event_in_order(bus: Bus, pool: str) -> None:
    events = [upsert(pool, "10.0.0.1:80", name=f"v{i}") for i in range(3)]
    for event in events:
        await bus.publish(endpoint_subject(pool, "10.0.0.1:80"), event)
    assert await collect(bus, pool, Deliver.ALL, 3) == events


async def test_last_per_subject_replays_only_the_latest_fact(bus: Bus, pool: str) -> None:
    a, b = "10.0.0.1:80", "10.0.0.2:80"
    await bus.publish(endpoint_subject(pool, a), upsert(pool, a, "old"))
    upsert_b = upsert(pool, b)
    await bus.publish(endpoint_subject(pool, b), upsert_b)
    latest_a = EndpointRemoved(source="t", pool=pool, address=a)
    await bus.publish(endpoint_subject(pool, a), latest_a)
    seen = await collect(bus, pool, Deliver.LAST_PER_SUBJECT, 2)
    assert seen == [upsert_b, latest_a]


async def test_same_msg_id_is_stored_once(bus: Bus, pool: str) -> None:
    subject = endpoint_subject(pool, "10.0.0.1:80")
    await bus.publish(subject, upsert(pool, "10.0.0.1:80"), msg_id=f"{pool}-same")
    await bus.publish(subject, upsert(pool, "10.0.0.1:80"), msg_id=f"{pool}-same")
    seen = await collect(bus, pool, Deliver.ALL, 1)
    await asyncio.sleep(0.2)
    assert len(seen) == 1


async def test_follow_delivers_events_published_after_catch_up(bus: Bus, pool: str) -> None:
    seen: list[Event] = []
    arrived = asyncio.Event()

    def handler(event: Event) -> None:
        seen.append(event)
        arrived.set()

    following = await bus.follow(
        STATE, pool_filter(pool), handler, deliver=Deliver.LAST_PER_SUBJECT
    )
    await asyncio.wait_for(following.caught_up.wait(), 10)
    assert seen == []
    event = upsert(pool, "10.0.0.9:80")
    await bus.publish(endpoint_subject(pool, "10.0.0.9:80"), event)
    await asyncio.wait_for(arrived.wait(), 10)
    await following.stop()
    assert seen == [event]


async def test_routing_events_live_in_their_own_stream(bus: Bus, pool: str) -> None:
    routed = RequestRouted(
        source="p", pool=pool, request_id="r1", model="m", target="10.0.0.1:80", picker="p"
    )
    await bus.publish(routing_subject(pool, "routed"), routed)
    seen: list[Event] = []
    got = asyncio.Event()
    following = await bus.follow(
        EVENTS, pool_filter(pool), lambda e: (seen.append(e), got.set()), deliver=Deliver.ALL
    )
    await asyncio.wait_for(got.wait(), 10)
    await following.stop()
    assert seen == [routed]


async def test_a_malformed_payload_is_skipped_and_delivery_goes_on(
    bus: Bus, pool: str, nats_url: str
) -> None:
    subject = endpoint_subject(pool, "10.0.0.1:80")
    good = upsert(pool, "10.0.0.2:80")
    if isinstance(bus, MemoryEventBus):
        await bus.publish_raw(subject, b"{garbage", msg_id="garbage")
    else:
        nc = await nats.connect(nats_url)
        await nc.jetstream().publish(subject, b"{garbage")
        await nc.close()
    await bus.publish(endpoint_subject(pool, "10.0.0.2:80"), good)
    seen = await collect(bus, pool, Deliver.ALL, 1)
    assert seen == [good]


async def test_since_replays_only_events_stored_after_the_start_time(bus: Bus, pool: str) -> None:
    subject = endpoint_subject(pool, "10.0.0.1:80")
    await bus.publish(subject, upsert(pool, "10.0.0.1:80", "before"))
    await asyncio.sleep(0.05)
    start = datetime.now(UTC)
    after = upsert(pool, "10.0.0.1:80", "after")
    await bus.publish(subject, after)
    seen: list[Event] = []
    got = asyncio.Event()
    following = await bus.follow(
        STATE,
        pool_filter(pool),
        lambda e: (seen.append(e), got.set()),
        deliver=Deliver.SINCE,
        since=start,
    )
    await asyncio.wait_for(following.caught_up.wait(), 10)
    await asyncio.wait_for(got.wait(), 10)
    await following.stop()
    assert seen == [after]
