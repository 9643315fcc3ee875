"""A following whose consumer is gone from the server is noticed and re-created.

nats-py re-creates an ordered consumer itself after a gap or a restart; when that
fails the subscription stays quiet for ever. The bus's watch must notice (readiness),
re-create it from the event after the last one applied, and lose nothing.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

from gie.bus import EVENTS, Deliver, NatsEventBus
from gie.bus.metrics import BusMetrics
from gie.events import Event, RequestRouted
from gie.events.subjects import pool_prefix, routing_subject
from tests.support.flow_replicas import eventually
from tests.support.routing_events import routed
from tests.support.servers import nats_server

pytestmark = pytest.mark.integration


async def _publish(bus: NatsEventBus, pool: str, numbers: range) -> None:
    for n in numbers:
        await bus.publish(routing_subject(pool, "routed"), routed(pool, n))


async def test_a_gone_consumer_makes_the_service_unready_then_is_recreated_losing_nothing(
    nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(self: object) -> None:  # nats-py's own re-creation fails
        return None

    monkeypatch.setattr(JetStreamContext._JSI, "recreate_consumer", refuse)
    pool = f"watch/{uuid.uuid4().hex[:8]}"
    seen: list[Event] = []
    metrics = BusMetrics()
    async with (
        NatsEventBus(nats_url, name="publisher") as publisher,
        NatsEventBus(
            nats_url,
            name="follower",
            metrics=metrics,
            following_check_s=0.2,
            following_heal_s=1.0,
        ) as bus,
    ):
        await publisher.ensure_streams()
        await _publish(publisher, pool, range(3))
        following = await bus.follow(
            EVENTS, f"{pool_prefix(pool)}.routing.>", seen.append, deliver=Deliver.ALL
        )
        await asyncio.wait_for(following.caught_up.wait(), 10)
        assert bus.stale_followings(0.0) is None

        consumer = following._sub._consumer  # type: ignore[union-attr]
        await publisher._jetstream().delete_consumer(EVENTS.name, consumer)
        await _publish(publisher, pool, range(3, 6))  # while nobody delivers them

        async def unready() -> bool:
            return bus.stale_followings(0.3) is not None

        await eventually(unready, timeout_s=5, what="readiness to report the gone consumer")
        reason = bus.stale_followings(0.3)
        assert reason is not None and "routing" in reason and EVENTS.name in reason

        def ids() -> list[str]:
            return [e.request_id for e in seen if isinstance(e, RequestRouted)]

        async def all_arrived() -> bool:
            return len(ids()) == 8

        await _publish(publisher, pool, range(6, 8))
        await eventually(all_arrived, timeout_s=10, what="every event after the re-creation")
        assert ids() == [f"r{n}" for n in range(8)]  # in order, none twice
        assert bus.stale_followings(0.0) is None
        restarts = metrics.following_restarts.labels(EVENTS.name)
        assert restarts.value == 1


async def test_a_recreation_that_fails_is_tried_again(
    nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """JetStream briefly unavailable when the watch re-creates a gone consumer (a
    leader election): the following must not be left without one for good."""

    async def refuse(self: object) -> None:  # nats-py's own re-creation fails
        return None

    monkeypatch.setattr(JetStreamContext._JSI, "recreate_consumer", refuse)
    pool = f"watch/{uuid.uuid4().hex[:8]}"
    seen: list[Event] = []
    async with (
        NatsEventBus(nats_url, name="publisher") as publisher,
        NatsEventBus(nats_url, name="follower", following_check_s=0.2, following_heal_s=0.3) as bus,
    ):
        await publisher.ensure_streams()
        following = await bus.follow(
            EVENTS, f"{pool_prefix(pool)}.routing.>", seen.append, deliver=Deliver.ALL
        )
        await asyncio.wait_for(following.caught_up.wait(), 10)
        resubscribe = following.resubscribe
        assert resubscribe is not None
        attempts = 0

        async def unavailable_once(from_seq: int) -> JetStreamContext.PushSubscription:
            nonlocal attempts
            attempts += 1
            if attempts == 1:
                raise NatsError("JetStream not available")
            return await resubscribe(from_seq)

        following.resubscribe = unavailable_once
        consumer = following._sub._consumer  # type: ignore[union-attr]
        await publisher._jetstream().delete_consumer(EVENTS.name, consumer)
        await _publish(publisher, pool, range(3))

        async def arrived() -> bool:
            return len(seen) == 3

        await eventually(arrived, timeout_s=10, what="the events after a second re-creation")
        assert attempts >= 2

        async def ready() -> bool:  # a slow check may still count it gone for a moment
            return bus.stale_followings(0.0) is None

        await eventually(ready, timeout_s=10, what="readiness back")


async def test_a_stream_deleted_and_made_again_is_followed_from_its_start() -> None:
    """Its sequence starts at 1 again: following on from the last sequence applied
    before would skip every event until the new stream got that far."""
    pool = f"again/{uuid.uuid4().hex[:8]}"
    seen: list[Event] = []
    with nats_server() as url:  # its own: the stream everyone follows is deleted
        async with (
            NatsEventBus(url, name="publisher") as publisher,
            NatsEventBus(url, name="follower", following_check_s=0.2, following_heal_s=0.3) as bus,
        ):
            await publisher.ensure_streams()
            await _publish(publisher, pool, range(3))
            following = await bus.follow(
                EVENTS, f"{pool_prefix(pool)}.routing.>", seen.append, deliver=Deliver.ALL
            )
            await asyncio.wait_for(following.caught_up.wait(), 10)
            await publisher._jetstream().delete_stream(EVENTS.name)
            await publisher.ensure_streams()
            await _publish(publisher, pool, range(3, 5))

            async def arrived() -> bool:
                return len(seen) == 5

            await eventually(arrived, timeout_s=10, what="the new stream's events")
            assert [e.request_id for e in seen if isinstance(e, RequestRouted)] == [
                f"r{n}" for n in range(5)
            ]
