"""Batches: several events in one payload, decoded in order, bad ones skipped alone."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from gie.bus import EVENTS, BusMetrics, Deliver, MemoryEventBus
from gie.events import (
    Event,
    EventCodec,
    EventDecodeError,
    RequestCompleted,
    default_codec,
)
from gie.events.subjects import routing_subject
from tests.support.routing_events import routed

POOL = "test/batches"


def completed(n: int) -> RequestCompleted:
    return RequestCompleted(
        source="t",
        pool=POOL,
        correlation_id=f"r{n}",
        request_id=f"r{n}",
        target="10.0.0.1:8000",
        picker="t",
        status=200,
        prompt_tokens=5,
    )


def test_a_batch_round_trips_in_order_with_mixed_types() -> None:
    codec = default_codec()
    events: list[Event] = [routed(POOL, 1), completed(1), routed(POOL, 2)]
    decoded = codec.decode_batch(codec.encode_batch(events))
    assert decoded.events == events
    assert [type(e) for e in decoded.events] == [type(e) for e in events]
    assert decoded.errors == []


def test_a_single_event_payload_is_a_batch_of_one() -> None:
    codec = default_codec()
    event = routed(POOL, 7)
    assert codec.decode_batch(codec.encode(event)).events == [event]


def test_invalid_events_of_a_batch_are_reported_by_position_and_the_rest_kept() -> None:
    codec = default_codec()
    good = [routed(POOL, 1), routed(POOL, 3)]
    bad_target = codec.encode(routed(POOL, 2)).replace(b'"10.0.0.1:8000"', b'"nowhere"')
    payload = b"[" + b",".join([codec.encode(good[0]), bad_target, codec.encode(good[1]), b"5"])
    decoded = codec.decode_batch(payload + b"]")
    assert decoded.events == good
    problems = [str(error) for error in decoded.errors]
    assert len(problems) == 2
    assert (
        problems[0].startswith("event 2 of 4: invalid RequestRouted event")
        and "ip:port" in (problems[0])
    )
    assert problems[1] == "event 4 of 4: not a JSON object"


@pytest.mark.parametrize(
    ("payload", "problem"),
    [(b"[1, 2", "not JSON"), (b"42", "neither a JSON object nor an array")],
)
def test_an_unreadable_payload_is_one_named_error(payload: bytes, problem: str) -> None:
    with pytest.raises(EventDecodeError, match=problem):
        default_codec().decode_batch(payload)


class Renamed(Event):
    TYPE = "BatchRenamedForTest"
    SCHEMA_VERSION = 2

    new_name: str


def test_old_versions_inside_a_batch_are_upcast() -> None:
    codec = EventCodec([Renamed])

    def v1_to_v2(raw: dict[str, object]) -> dict[str, object]:
        raw["new_name"] = raw.pop("old_name")
        return raw

    codec.register_upcaster(Renamed.TYPE, 1, v1_to_v2)
    old = b'{"type": "BatchRenamedForTest", "schema_version": 1, "source": "s", "pool": "a/b", '
    payload = b"[" + old + b'"old_name": "one"},' + old + b'"old_name": "two"}]'
    decoded = codec.decode_batch(payload)
    assert [e.new_name for e in decoded.events if isinstance(e, Renamed)] == ["one", "two"]


async def test_a_follower_gets_every_valid_event_of_a_batch_and_counts_the_bad_one() -> None:
    registry = CollectorRegistry()
    bus = MemoryEventBus(metrics=BusMetrics(registry))
    codec = default_codec()
    subject = routing_subject(POOL, "routed")
    payload = b"[" + codec.encode(routed(POOL, 1)) + b',{"type":"Nope"},'
    payload += codec.encode(routed(POOL, 2)) + b"]"
    await bus.publish_raw(subject, payload, msg_id="batch-1")
    seen: list[Event] = []
    done = asyncio.Event()

    def handler(event: Event) -> None:
        seen.append(event)
        if len(seen) == 2:
            done.set()

    following = await bus.follow(EVENTS, subject, handler, deliver=Deliver.ALL)
    await asyncio.wait_for(done.wait(), 5)
    await asyncio.wait_for(following.caught_up.wait(), 5)
    await following.stop()
    assert [getattr(e, "request_id", None) for e in seen] == ["r1", "r2"]
    assert registry.get_sample_value("gie_bus_events_invalid_total", {"stream": EVENTS.name}) == 1
    assert registry.get_sample_value("gie_bus_events_received_total", {"stream": EVENTS.name}) == 2


def batch_of(*items: bytes) -> bytes:
    return b"[" + b",".join(items) + b"]"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ((b'"schema_version":1', b'"schema_version":0'), "invalid schema_version 0"),
        ((b'"schema_version":1', b'"schema_version":9'), "newer than this build"),
        ((b'"type":"RequestRouted"', b'"type":""'), "unknown event type ''"),
        ((b'"pool":"test/batches"', b'"pool":""'), "invalid RequestRouted event"),
    ],
    ids=["version-zero", "version-from-the-future", "empty-type", "empty-pool"],
)
def test_an_envelope_that_is_not_the_current_event_is_refused_inside_a_batch(
    change: tuple[bytes, bytes], problem: str
) -> None:
    # Whole valid batches take a faster path than item-by-item decoding: it must refuse
    # exactly what the item-by-item path refuses, and never half-accept a batch.
    codec = default_codec()
    good = routed(POOL, 1)
    bad = codec.encode(routed(POOL, 2)).replace(*change)
    decoded = codec.decode_batch(batch_of(codec.encode(good), bad))
    assert decoded.events == [good]
    assert len(decoded.errors) == 1
    assert str(decoded.errors[0]).startswith("event 2 of 2: ")
    assert problem in str(decoded.errors[0])


def test_an_item_without_a_version_is_version_one_and_upcast_to_the_current() -> None:
    codec = EventCodec([Renamed, RequestCompleted])

    def v1_to_v2(raw: dict[str, object]) -> dict[str, object]:
        raw["new_name"] = raw.pop("old_name")
        return raw

    codec.register_upcaster(Renamed.TYPE, 1, v1_to_v2)
    unversioned = b'{"type": "BatchRenamedForTest", "source": "s", "pool": "a/b", "old_name": "x"}'
    first = completed(1)
    decoded = codec.decode_batch(batch_of(codec.encode(first), unversioned))
    assert decoded.errors == []
    assert decoded.events[0] == first
    assert isinstance(decoded.events[1], Renamed)
    assert decoded.events[1].new_name == "x"
    assert decoded.events[1].schema_version == 2


def test_types_registered_after_the_first_batch_are_decoded_too() -> None:
    codec = EventCodec([RequestCompleted])
    first = completed(1)
    assert codec.decode_batch(batch_of(codec.encode(first))).events == [first]
    codec.register(Renamed)
    late = Renamed(source="s", pool="a/b", new_name="late")
    assert codec.decode_batch(batch_of(codec.encode(late), codec.encode(first))).events == [
        late,
        first,
    ]
