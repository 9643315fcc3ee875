"""BackgroundPublisher: nothing blocks the caller, order is kept, overflow is counted."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

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
        self,
        subject: str,
        event: Event,
        *,
        msg_id: str | None = None,
        confirm: bool = True,
        traceparent: str | None = None,
    ) -> None:
        self.calls.append(asyncio.get_running_loop().time())
        await super().publish(subject, event, msg_id=msg_id, confirm=confirm)

    def publish_nowait(self, subject: str, event: Event, *, traceparent: str | None = None) -> bool:
        return False  # no synchronous path here: everything goes through the queue

    def publish_batch_nowait(self, subject: str, events: Sequence[Event]) -> bool:
        return False


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

    def publish_nowait(self, subject: str, event: Event, *, traceparent: str | None = None) -> bool:
        if not self.accepting:
            return False
        self.direct.append(event)
        self._stored.append((subject, event))
        return True

    def publish_batch_nowait(self, subject: str, events: Sequence[Event]) -> bool:
        return self.accepting and MemoryEventBus.publish_batch_nowait(self, subject, events)

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


def held_publisher(
    bus: MemoryEventBus, *, batch_s: float, batch_max: int = 64
) -> BackgroundPublisher:
    return BackgroundPublisher(
        bus,
        metrics=BusMetrics(CollectorRegistry()),
        confirm=False,
        batch_s=batch_s,
        batch_max=batch_max,
    )


async def test_held_events_go_out_as_one_batch_message_per_subject_in_order() -> None:
    bus = NowaitBus()
    publisher = held_publisher(bus, batch_s=0.02)
    publisher.start()
    first, second = endpoint_subject(POOL, "10.0.0.1:80"), endpoint_subject(POOL, "10.0.0.2:80")
    events = [upsert(i) for i in range(1, 7)]
    for index, event in enumerate(events):
        publisher.submit(first if index % 2 == 0 else second, event)
    assert bus.messages(STATE) == []  # held, not sent yet
    await asyncio.sleep(0.05)
    messages = bus.messages(STATE)
    assert len(messages) == 2 and all(m.startswith(b"[") for m in messages)
    seen = await stored_events(bus, 6)
    assert seen == events[0::2] + events[1::2]  # order kept within each subject
    await publisher.close()


async def test_a_full_batch_goes_out_at_once_and_a_lone_event_as_a_plain_message() -> None:
    bus = NowaitBus()
    publisher = held_publisher(bus, batch_s=60.0, batch_max=3)
    publisher.start()
    subject = endpoint_subject(POOL, "10.0.0.1:80")
    events = [upsert(i) for i in range(1, 5)]
    for event in events:
        publisher.submit(subject, event)
    assert len(bus.messages(STATE)) == 1  # the first three, without waiting a minute
    await publisher.close()  # the fourth: flushed on close, alone
    assert bus.direct == events[3:]
    await bus.flush_direct()
    messages = bus.messages(STATE)
    assert len(messages) == 2 and messages[1].startswith(b"{")
    assert await stored_events(bus, 4) == events


async def test_a_batch_the_bus_cannot_take_goes_through_the_queue_in_order() -> None:
    bus = NowaitBus()
    publisher = held_publisher(bus, batch_s=0.01)
    publisher.start()
    subject = endpoint_subject(POOL, "10.0.0.1:80")
    events = [upsert(i) for i in range(1, 4)]
    bus.accepting = False
    for event in events:
        publisher.submit(subject, event)
    await asyncio.sleep(0.05)
    assert len(bus.calls) == 3  # one confirmed-path publish each, after the hold
    await publisher.close()
    assert await stored_events(bus, 3) == events


def test_batch_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="batch_max"):
        held_publisher(MemoryEventBus(), batch_s=0.01, batch_max=0)


async def test_under_steady_traffic_held_events_ride_out_with_a_later_submit() -> None:
    bus = NowaitBus()
    publisher = held_publisher(bus, batch_s=1.0)
    publisher.start()
    subject = endpoint_subject(POOL, "10.0.0.1:80")
    events = [upsert(1), upsert(2)]
    publisher.submit(subject, events[0])
    await asyncio.sleep(0.25)  # past a fifth of the longest hold, long before the timer
    assert bus.messages(STATE) == []
    publisher.submit(subject, events[1])
    assert len(bus.messages(STATE)) == 1  # both, in one batch, inside that submit
    await publisher.close()
    assert await stored_events(bus, 2) == events


async def test_a_longer_ride_along_keeps_events_held_until_it_has_passed() -> None:
    bus = NowaitBus()
    publisher = BackgroundPublisher(
        bus,
        metrics=BusMetrics(CollectorRegistry()),
        confirm=False,
        batch_s=1.0,
        ride_along_s=0.5,
    )
    publisher.start()
    subject = endpoint_subject(POOL, "10.0.0.1:80")
    events = [upsert(1), upsert(2), upsert(3)]
    publisher.submit(subject, events[0])
    await asyncio.sleep(0.25)  # past a fifth of the batch, not past the ride-along
    publisher.submit(subject, events[1])
    assert bus.messages(STATE) == []
    await asyncio.sleep(0.3)
    publisher.submit(subject, events[2])
    assert len(bus.messages(STATE)) == 1  # all three, in one batch
    await publisher.close()
    assert await stored_events(bus, 3) == events


def test_a_ride_along_outside_the_batch_is_refused() -> None:
    with pytest.raises(ValueError, match="ride_along_s"):
        BackgroundPublisher(
            MemoryEventBus(),
            metrics=BusMetrics(CollectorRegistry()),
            confirm=False,
            batch_s=0.05,
            ride_along_s=0.1,
        )


class FailingOnceBus(CountingBus):
    """A bus whose first publish fails with something no adapter foresaw."""

    async def publish(
        self,
        subject: str,
        event: Event,
        *,
        msg_id: str | None = None,
        confirm: bool = True,
        traceparent: str | None = None,
    ) -> None:
        if not self.calls:
            self.calls.append(0.0)
            raise RuntimeError("encoder bug")
        await super().publish(subject, event, msg_id=msg_id, confirm=confirm)


async def test_an_unforeseen_publish_failure_loses_that_event_not_every_later_one() -> None:
    bus = FailingOnceBus()
    publisher = BackgroundPublisher(bus, metrics=BusMetrics(CollectorRegistry()), confirm=False)
    publisher.start()
    events = [upsert(i) for i in range(1, 4)]
    for event in events:
        publisher.submit(endpoint_subject(POOL, event.endpoint.address), event)
    await asyncio.sleep(0.05)
    await publisher.close()
    assert await stored_events(bus, 2) == events[1:]
