"""The NATS adapter's shortcuts on real NATS: unconfirmed events handed over
synchronously, and ordered consumers without nats-py's flow-control polling."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry

from gie.bus import EVENTS, BusMetrics, Deliver, Following, NatsEventBus
from gie.events import Event, RequestRouted
from gie.events.subjects import pool_prefix, routing_subject
from tests.support.flow_replicas import eventually
from tests.support.routing_events import routed

pytestmark = pytest.mark.integration


async def follow_all(bus: NatsEventBus, pool: str, count: int) -> list[str]:
    seen: list[Event] = []
    following = await bus.follow(
        EVENTS, f"{pool_prefix(pool)}.routing.>", seen.append, deliver=Deliver.ALL
    )

    async def arrived() -> bool:
        return len(seen) >= count

    await eventually(arrived, timeout_s=30, what=f"{count} routing events")
    await following.stop()
    return [e.request_id for e in seen if isinstance(e, RequestRouted)]


async def test_events_handed_over_synchronously_are_stored_in_order(nats_url: str) -> None:
    pool = f"nowait/{uuid.uuid4().hex[:8]}"
    registry = CollectorRegistry()
    subject = routing_subject(pool, "routed")
    async with NatsEventBus(nats_url, name="pub", metrics=BusMetrics(registry)) as bus:
        await bus.ensure_streams()
        await bus.publish(subject, routed(pool, 0), confirm=False)
        assert all([bus.publish_nowait(subject, routed(pool, n)) for n in range(1, 50)])
        await bus.publish(subject, routed(pool, 50), confirm=False)
        assert bus.publish_nowait(subject, routed(pool, 51))
        published = registry.get_sample_value(
            "gie_bus_events_published_total", {"type": "RequestRouted"}
        )
        assert published == 52
        await bus.publish(subject, routed(pool, 52))  # confirmed: everything before is stored
        assert await follow_all(bus, pool, 53) == [f"r{n}" for n in range(53)]


async def test_on_an_idle_connection_an_event_goes_to_the_socket_at_once(nats_url: str) -> None:
    pool = f"idle/{uuid.uuid4().hex[:8]}"
    subject = routing_subject(pool, "routed")
    async with NatsEventBus(nats_url, name="idle") as bus:
        await bus.ensure_streams()
        await bus.publish(subject, routed(pool, 0))  # confirmed: nothing waits anywhere
        assert bus.publish_nowait(subject, routed(pool, 1))
        client = bus._nc
        assert client is not None
        assert client._pending == [] and client._pending_data_size == 0  # not left for a flush
        # A public publish waits for the flusher; what is handed over meanwhile queues behind.
        await bus.publish(subject, routed(pool, 2), confirm=False)
        assert bus.publish_nowait(subject, routed(pool, 3))
        assert await follow_all(bus, pool, 4) == ["r0", "r1", "r2", "r3"]


async def test_a_closed_connection_takes_nothing_synchronously(nats_url: str) -> None:
    registry = CollectorRegistry()
    bus = NatsEventBus(nats_url, name="closed", metrics=BusMetrics(registry))
    await bus.connect()
    await bus.close()
    assert not bus.publish_nowait(routing_subject("p/q", "routed"), routed("p/q", 1))
    assert registry.get_sample_value(
        "gie_bus_events_published_total", {"type": "RequestRouted"}
    ) in (
        None,
        0.0,
    )


async def test_a_backlog_that_needs_flow_control_arrives_without_the_polling_task(
    nats_url: str,
) -> None:
    pool = f"flow/{uuid.uuid4().hex[:8]}"
    subject = routing_subject(pool, "routed")
    count = 3000  # ~2.4 KB each, ~7 MB: the server asks for flow control on the way
    async with NatsEventBus(nats_url, name="pub") as publisher:
        await publisher.ensure_streams()
        for n in range(count):
            event = routed(pool, n, model="m" * 2400)
            if not publisher.publish_nowait(subject, event):  # buffer full: flush first
                await publisher.publish(subject, event, confirm=False)
        await publisher.publish(subject, routed(pool, count))
    seen: list[Event] = []
    async with NatsEventBus(nats_url, name="follower") as bus:
        following = await bus.follow(
            EVENTS, f"{pool_prefix(pool)}.routing.>", seen.append, deliver=Deliver.ALL
        )

        async def arrived() -> bool:
            return len(seen) > count

        await eventually(arrived, timeout_s=30, what=f"{count + 1} routing events")
        polling = [
            t for t in asyncio.all_tasks() if "check_flow_control_response" in repr(t.get_coro())
        ]
        await following.stop()
    assert [e.request_id for e in seen if isinstance(e, RequestRouted)] == [
        f"r{n}" for n in range(count + 1)
    ]
    assert polling == []


async def until_seen(seen: list[Event], count: int) -> None:
    async def arrived() -> bool:
        return len(seen) == count

    await eventually(arrived, timeout_s=10, what=f"{count} events")


@contextlib.asynccontextmanager
async def two_publishers(
    nats_url: str, pool: str, seen: list[Event]
) -> AsyncIterator[tuple[NatsEventBus, NatsEventBus, Following]]:
    """Our bus following the pool's routing events into ``seen``, and another bus."""
    async with (
        NatsEventBus(nats_url, name="me") as bus,
        NatsEventBus(nats_url, name="other") as other,
    ):
        await bus.ensure_streams()
        following = await bus.follow(
            EVENTS, f"{pool_prefix(pool)}.routing.>", seen.append, deliver=Deliver.NEW
        )
        await asyncio.wait_for(following.caught_up.wait(), 10)
        yield bus, other, following


async def test_own_events_come_back_without_decoding_and_others_are_decoded(
    nats_url: str,
) -> None:
    pool = f"echo/{uuid.uuid4().hex[:8]}"
    subject = routing_subject(pool, "routed")
    seen: list[Event] = []
    async with two_publishers(nats_url, pool, seen) as (bus, other, following):
        mine, theirs = routed(pool, 1), routed(pool, 2)
        assert bus.publish_nowait(subject, mine)
        await other.publish(subject, theirs)
        await until_seen(seen, 2)
        # Not following it: nothing kept for a subject that never comes back.
        assert bus.publish_nowait(routing_subject(f"{pool}x", "routed"), routed(pool, 3))
        kept = len(bus._own)
        await following.stop()
    # The two publishers race to the stream: find each by id.
    by_id = {event.event_id: event for event in seen}
    assert by_id[mine.event_id] is mine  # handed back as published, not decoded again
    assert by_id[theirs.event_id] == theirs and by_id[theirs.event_id] is not theirs
    assert kept == 0


async def test_batches_are_stored_as_one_message_and_followed_event_by_event(
    nats_url: str,
) -> None:
    pool = f"batch/{uuid.uuid4().hex[:8]}"
    subject = routing_subject(pool, "routed")
    seen: list[Event] = []
    async with two_publishers(nats_url, pool, seen) as (bus, other, following):
        mine = [routed(pool, n) for n in range(1, 4)]
        theirs = [routed(pool, n) for n in range(4, 6)]
        assert bus.publish_batch_nowait(subject, mine)
        assert other.publish_batch_nowait(subject, theirs)
        huge = [routed(pool, n) for n in range(20_000)]  # far above one message's limit
        assert not bus.publish_batch_nowait(subject, huge)
        await until_seen(seen, 5)
        await following.stop()
        info = await bus._jetstream().stream_info(EVENTS.name, subjects_filter=subject)
    assert info.state.subjects == {subject: 2}  # two messages: one per batch
    ids = [event.event_id for event in seen]
    first = ids.index(mine[0].event_id)
    assert seen[first : first + 3] == mine and all(
        a is b for a, b in zip(seen[first : first + 3], mine, strict=True)
    )  # our own batch: handed back as published
    other_first = ids.index(theirs[0].event_id)
    assert seen[other_first : other_first + 2] == theirs  # decoded, in order
