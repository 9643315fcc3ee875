"""BackgroundPublisher: nothing blocks the caller, order kept, bursts handed over together."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from gie.bus import STATE, BackgroundPublisher, BusMetrics, Deliver, MemoryEventBus
from gie.events import Endpoint, EndpointUpserted, Event
from gie.events.subjects import endpoint_subject, pool_filter

POOL = "test/background"


def upsert(index: int) -> EndpointUpserted:
    address = f"10.0.0.{index}:80"
    return EndpointUpserted(source="t", pool=POOL, endpoint=Endpoint(address=address))


class CountingBus(MemoryEventBus):
    """The in-memory bus, recording when each publish call happened."""

    def __init__(self) -> None:
        super().__init__(metrics=BusMetrics(CollectorRegistry()))
        self.calls: list[float] = []

    async def publish(
        self, subject: str, event: Event, *, msg_id: str | None = None, confirm: bool = True
    ) -> None:
        self.calls.append(asyncio.get_running_loop().time())
        await super().publish(subject, event, msg_id=msg_id, confirm=confirm)


async def stored_events(bus: MemoryEventBus, expected: int) -> list[Event]:
    seen: list[Event] = []
    done = asyncio.Event()

    def handler(event: Event) -> None:
        seen.append(event)
        if len(seen) == expected:
            done.set()

    following = await bus.follow(STATE, pool_filter(POOL), handler, deliver=Deliver.ALL)
    await asyncio.wait_for(done.wait(), 5)
    await following.stop()
    return seen


async def test_unconfirmed_events_wait_the_linger_then_go_together_in_order() -> None:
    bus = CountingBus()
    publisher = BackgroundPublisher(
        bus, metrics=BusMetrics(CollectorRegistry()), confirm=False, linger_s=0.05
    )
    publisher.start()
    events = [upsert(i) for i in range(1, 6)]
    started = asyncio.get_running_loop().time()
    for event in events:
        publisher.submit(endpoint_subject(POOL, event.endpoint.address), event)
    await asyncio.sleep(0.02)
    assert bus.calls == []  # still lingering
    await publisher.close()
    assert len(bus.calls) == 5
    assert min(bus.calls) - started >= 0.045
    assert max(bus.calls) - min(bus.calls) < 0.01  # one burst
    assert await stored_events(bus, 5) == events


async def test_without_linger_events_are_handed_over_on_the_next_turn_of_the_loop() -> None:
    bus = CountingBus()
    publisher = BackgroundPublisher(bus, metrics=BusMetrics(CollectorRegistry()), confirm=False)
    publisher.start()
    event = upsert(1)
    publisher.submit(endpoint_subject(POOL, "10.0.0.1:80"), event)
    await asyncio.sleep(0.01)
    assert len(bus.calls) == 1
    await publisher.close()
    assert await stored_events(bus, 1) == [event]


async def test_a_full_queue_drops_and_counts_instead_of_blocking() -> None:
    registry = CollectorRegistry()
    bus = CountingBus()
    publisher = BackgroundPublisher(
        bus, metrics=BusMetrics(registry), confirm=False, max_queue=2, linger_s=0.05
    )
    publisher.start()
    for index in range(1, 5):
        publisher.submit(endpoint_subject(POOL, f"10.0.0.{index}:80"), upsert(index))
    await publisher.close()
    dropped = registry.get_sample_value(
        "gie_bus_events_dropped_total", {"type": "EndpointUpserted"}
    )
    assert dropped == 2
    assert len(bus.calls) == 2


def test_a_negative_linger_is_refused() -> None:
    with pytest.raises(ValueError, match="linger_s"):
        BackgroundPublisher(MemoryEventBus(), metrics=BusMetrics(None), linger_s=-1)
