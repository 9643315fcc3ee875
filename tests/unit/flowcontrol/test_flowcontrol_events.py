"""The flow events: models, codec, subjects, and how the flow-controller publishes them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from gie.bus import EVENTS, BackgroundPublisher, BusMetrics, MemoryEventBus, subject_matches
from gie.events import (
    RequestDispatched,
    RequestEvicted,
    RequestQueued,
    RequestRejected,
    default_codec,
)
from gie.events.subjects import flow_subject, pool_of
from gie.flowcontrol import FlowKey, Outcome
from gie_flow_controller.model import Admission, AdmitStatus, Finished, Ticket
from gie_flow_controller.telemetry import FlowControlMetrics, FlowEvents

POOL = "ns/pool"
AT = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "event",
    [
        RequestQueued(source="fc", pool=POOL, request_id="r", fairness_id="t", priority=1, shard=2),
        RequestDispatched(
            source="fc", pool=POOL, request_id="r", fairness_id="t", priority=1, shard=2, charge=3
        ),
        RequestRejected(
            source="fc", pool=POOL, request_id="r", fairness_id="t", priority=1, reason="band-bytes"
        ),
        RequestEvicted(
            source="fc",
            pool=POOL,
            request_id="r",
            fairness_id="t",
            priority=1,
            shard=0,
            reason="ttl",
            outcome="EvictedTTL",
        ),
    ],
    ids=lambda event: event.type,
)
def test_flow_events_round_trip_and_are_stored_by_the_events_stream(event: object) -> None:
    codec = default_codec()
    assert codec.decode(codec.encode(event)) == event  # type: ignore[arg-type]
    subject = flow_subject(POOL, "queued")
    assert pool_of(subject) == POOL
    assert any(subject_matches(pattern, subject) for pattern in EVENTS.subjects)


def test_flow_events_refuse_unknown_fields_and_are_immutable() -> None:
    with pytest.raises(ValidationError):
        RequestQueued(
            source="fc", pool=POOL, request_id="r", fairness_id="t", priority=0, shard=0, prompt="x"
        )  # type: ignore[call-arg]
    event = RequestQueued(
        source="fc", pool=POOL, request_id="r", fairness_id="t", priority=0, shard=0
    )
    with pytest.raises(ValidationError):
        event.shard = 3  # type: ignore[misc]


async def test_each_fact_is_published_once_with_an_id_derived_from_the_request() -> None:
    bus = MemoryEventBus()
    publisher = BackgroundPublisher(bus, metrics=BusMetrics(CollectorRegistry()), concurrency=1)
    publisher.start()
    registry = CollectorRegistry()
    metrics = FlowControlMetrics(registry)
    events = FlowEvents(publisher, pool=POOL, source="fc-1", metrics=metrics)
    ticket = Ticket("r1", FlowKey("t", 2), byte_size=7, expires_ms=1_900_000_000_000)
    admission = Admission(AdmitStatus.QUEUED, "r1", 3, 1_800_000_000_000)
    done = Finished(
        "r1", FlowKey("t", 2), Outcome.DISPATCHED, "", 3, 1_800_000_000_000, 1_800_000_000_500
    )
    events.queued(ticket, admission)
    events.dispatched(done, 4.5)
    events.dispatched(done, 4.5)  # published twice: stored once
    await publisher.close()
    stored = bus.stored(EVENTS)
    assert [type(e) for e in stored] == [RequestQueued, RequestDispatched]
    queued, dispatched = stored
    assert isinstance(queued, RequestQueued) and isinstance(dispatched, RequestDispatched)
    assert (queued.shard, queued.byte_size, queued.correlation_id) == (3, 7, "r1")
    assert queued.expires_at == datetime.fromtimestamp(1_900_000_000, UTC)
    assert (dispatched.queued_s, dispatched.charge, dispatched.source) == (0.5, 4.5, "fc-1")
    assert queued.event_id != dispatched.event_id
    sample = metrics.outcomes.labels("2", "Dispatched", "")._value.get()
    assert sample == 2.0
