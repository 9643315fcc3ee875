"""BackgroundPublisher: nothing blocks the caller, order is kept, overflow is counted."""

from __future__ import annotations

import asyncio

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


async def test_unconfirmed_events_are_handed_over_in_order_without_blocking_the_caller() -> None:
    bus = CountingBus()
    publisher = BackgroundPublisher(bus, metrics=BusMetrics(CollectorRegistry()), confirm=False)
    publisher.start()
    events = [upsert(i) for i in range(1, 6)]
    for event in events:
        publisher.submit(endpoint_subject(POOL, event.endpoint.address), event)
    assert bus.calls == []  # submit only queues
    await asyncio.sleep(0.01)
    assert len(bus.calls) == 5
    await publisher.close()
    assert await stored_events(bus, 5) == events


async def test_a_full_queue_drops_and_counts_instead_of_blocking() -> None:
    registry = CollectorRegistry()
    bus = CountingBus()
    publisher = BackgroundPublisher(bus, metrics=BusMetrics(registry), confirm=False, max_queue=2)
    publisher.start()
    for index in range(1, 5):
        publisher.submit(endpoint_subject(POOL, f"10.0.0.{index}:80"), upsert(index))
    await publisher.close()
    dropped = registry.get_sample_value(
        "gie_bus_events_dropped_total", {"type": "EndpointUpserted"}
    )
    assert dropped == 2
    assert len(bus.calls) == 2


class NowaitBus(CountingBus):
    """A bus that can take unconfirmed events synchronously, until told it cannot."""

    def __init__(self) -> None:
        super().__init__()
        self.accepting = True
        self.direct: list[Event] = []
        self._stored: list[tuple[str, Event]] = []

    def publish_nowait(self, subject: str, event: Event) -> bool:
        if not self.accepting:
            return False
        self.direct.append(event)
        self._stored.append((subject, event))
        return True

    async def flush_direct(self) -> None:
        stored, self._stored = self._stored, []
        for subject, event in stored:
            await MemoryEventBus.publish(self, subject, event, confirm=False)


async def test_a_bus_that_takes_events_synchronously_gets_them_inside_submit() -> None:
    bus = NowaitBus()
    publisher = BackgroundPublisher(bus, metrics=BusMetrics(CollectorRegistry()), confirm=False)
    publisher.start()
    events = [upsert(i) for i in range(1, 4)]
    for event in events:
        publisher.submit(endpoint_subject(POOL, event.endpoint.address), event)
    assert bus.direct == events  # handed over before submit returned
    await asyncio.sleep(0.01)
    assert bus.calls == []  # the queue and its task were never used
    await publisher.close()


async def test_while_the_bus_cannot_take_them_events_queue_and_order_is_kept() -> None:
    bus = NowaitBus()
    publisher = BackgroundPublisher(bus, metrics=BusMetrics(CollectorRegistry()), confirm=False)
    publisher.start()
    events = [upsert(i) for i in range(1, 6)]
    subject = endpoint_subject(POOL, "10.0.0.1:80")
    bus.accepting = False
    publisher.submit(subject, events[0])
    publisher.submit(subject, events[1])
    bus.accepting = True
    # Two events still queued: a later one must not overtake them.
    publisher.submit(subject, events[2])
    assert bus.direct == []
    await asyncio.sleep(0.01)  # the queue drains
    publisher.submit(subject, events[3])
    publisher.submit(subject, events[4])
    assert bus.direct == events[3:]
    await bus.flush_direct()
    await publisher.close()
    assert await stored_events(bus, 5) == events


async def test_confirmed_publishing_never_takes_the_synchronous_path() -> None:
    bus = NowaitBus()
    publisher = BackgroundPublisher(bus, metrics=BusMetrics(CollectorRegistry()), concurrency=1)
    publisher.start()
    publisher.submit(endpoint_subject(POOL, "10.0.0.1:80"), upsert(1))
    await publisher.close()
    assert bus.direct == []
    assert len(bus.calls) == 1
