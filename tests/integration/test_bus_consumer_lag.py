"""A consumer's lag behind its stream, as /metrics shows it, on the in-memory bus and
on real NATS.

Events that occurred a minute ago wait behind a handler that hangs: the lag is at
least that minute and grows while the handler hangs, the messages behind it are
counted as pending; once the handler is released and everything is handled, both
are 0. A stopped following no longer counts.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from gie.bus import STATE, BusMetrics, Deliver, MemoryEventBus, NatsEventBus
from gie.events import Endpoint, EndpointUpserted, Event
from gie.events.subjects import endpoint_subject, pool_filter

pytestmark = pytest.mark.integration

Bus = MemoryEventBus | NatsEventBus
AGE_S = 60.0
EVENTS = 3


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture(params=["memory", "nats"])
async def bus(request: pytest.FixtureRequest, registry: CollectorRegistry) -> AsyncIterator[Bus]:
    metrics = BusMetrics(registry)
    if request.param == "memory":
        memory = MemoryEventBus(metrics=metrics)
        yield memory
        await memory.close()
        return
    nats_url = request.getfixturevalue("nats_url")
    async with NatsEventBus(nats_url, name="lag-test", metrics=metrics) as nats_bus:
        await nats_bus.ensure_streams()
        yield nats_bus


def sample(registry: CollectorRegistry, name: str, stream: str = "GIE_STATE") -> float | None:
    return registry.get_sample_value(name, {"stream": stream})


def lag(registry: CollectorRegistry) -> float | None:
    return sample(registry, "gie_bus_consumer_lag_seconds")


def pending(registry: CollectorRegistry) -> float | None:
    return sample(registry, "gie_bus_consumer_pending_messages")


async def test_lag_grows_behind_a_hung_handler_and_clears_when_caught_up(
    bus: Bus, registry: CollectorRegistry
) -> None:
    pool = f"test/{uuid.uuid4().hex[:8]}"
    occurred = datetime.now(UTC) - timedelta(seconds=AGE_S)
    for i in range(EVENTS):
        address = f"10.0.0.{i + 1}:80"
        event = EndpointUpserted(
            source="t", pool=pool, endpoint=Endpoint(address=address), occurred_at=occurred
        )
        await bus.publish(endpoint_subject(pool, address), event)
    release = asyncio.Event()
    first = asyncio.Event()
    handled: list[Event] = []

    async def handler(event: Event) -> None:
        first.set()
        await release.wait()
        handled.append(event)

    following = await bus.follow(STATE, pool_filter(pool), handler, deliver=Deliver.ALL)
    await asyncio.wait_for(first.wait(), 10)

    hung = lag(registry)
    assert hung is not None and hung >= AGE_S
    assert pending(registry) == EVENTS - 1
    await asyncio.sleep(0.3)
    later = lag(registry)
    assert later is not None and later >= hung + 0.25

    release.set()
    await asyncio.wait_for(following.caught_up.wait(), 10)
    deadline = asyncio.get_running_loop().time() + 10
    while len(handled) < EVENTS:
        assert asyncio.get_running_loop().time() < deadline, handled
        await asyncio.sleep(0.01)
    assert lag(registry) == 0.0
    assert pending(registry) == 0.0

    await following.stop()
    assert lag(registry) is None  # no following of the stream left
