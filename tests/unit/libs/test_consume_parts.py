"""The consumer SDK's pure parts: reading a start, gaps in a publisher's sequence,
bounded deduplication, lenient models, and CloudEvents type names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from gie.consume import Gap, GapDetector, InvalidSinceError, RawEvent, RecentIds, parse_since
from gie.consume.messages import decode_message
from gie.consume.since import start_of
from gie.events import (
    EndpointMetrics,
    EndpointMetricsObserved,
    EventDecodeError,
    RequestCompleted,
    default_codec,
)
from gie.events.cloudevents import ce_type, subject_kind, type_of
from gie.events.lenient import lenient_codec
from gie.events.subjects import routing_subject
from tests.support.consume_events import completed, completed_json

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", NOW - timedelta(seconds=90)),
        ("10m", NOW - timedelta(minutes=10)),
        ("1.5h", NOW - timedelta(minutes=90)),
        ("1d", NOW - timedelta(days=1)),
        ("2026-12-07T09:00:00Z", datetime(2026, 12, 7, 9, 0, tzinfo=UTC)),
        ("2026-12-07T11:00:00+02:00", datetime(2026, 12, 7, 9, 0, tzinfo=UTC)),
        ("2026-12-07T09:00:00", datetime(2026, 12, 7, 9, 0, tzinfo=UTC)),
    ],
    ids=["seconds", "minutes", "fraction", "days", "utc", "offset", "naive-is-utc"],
)
def test_a_start_is_a_duration_or_a_time(text: str, expected: datetime) -> None:
    assert parse_since(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "10", "-5m", "10 minutes", ""])
def test_a_bad_start_is_named(text: str) -> None:
    with pytest.raises(InvalidSinceError, match=repr(text)):
        parse_since(text, now=NOW)


def numbered(seqs: list[int | None], publisher: str = "p1") -> list[RequestCompleted]:
    return [
        completed("a/b", n, seq=seq).model_copy(update={"picker": publisher})
        for n, seq in enumerate(seqs)
    ]


def test_a_start_given_as_a_datetime_is_utc_like_one_given_as_text() -> None:
    """A naive datetime is UTC (as text without offset is): comparing it with the
    stream's times must not raise TypeError."""
    naive = datetime(2026, 12, 7, 8, 0)
    assert start_of(naive) == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert start_of(naive) == parse_since("2026-12-07T08:00:00")
    paris = datetime(2026, 12, 7, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    assert start_of(paris) == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert start_of(None) is None
    assert start_of("90s") is not None


@pytest.mark.parametrize(
    ("seqs", "gaps"),
    [
        ([1, 2, 3], []),
        ([7, 8, 9], []),  # a consumer that starts mid-stream
        ([1, 2, 5], [(3, 5)]),
        ([1, 3, 4, 7], [(2, 3), (5, 7)]),
        ([4, 5, 1, 2], []),  # 1 after 5 of one run: a redelivery (a restart is a new run)
        ([4, 5, 3, 6], []),  # 3: a redelivery, not a restart
        ([1, None, 2], []),  # events without a sequence are not counted
    ],
    ids=["none", "mid-stream", "one", "two", "old-one", "redelivery", "unnumbered"],
)
def test_gaps_in_a_publishers_sequence(seqs: list[int | None], gaps: list[tuple[int, int]]) -> None:
    seen: list[Gap] = []
    detector = GapDetector(seen.append)
    for event in numbered(seqs):
        detector.observe(event)
    assert [(gap.expected, gap.got) for gap in seen] == gaps
    assert detector.gaps == len(gaps)
    assert detector.missing == sum(got - expected for expected, got in gaps)


def runs(*runs: tuple[str, list[int]]) -> list[RequestCompleted]:
    """Events of one publisher's runs (processes): each its own event-id prefix."""
    return [
        completed("a/b", seq, seq=seq).model_copy(
            update={"picker": "p1", "event_id": f"{prefix * 16}{seq:016x}"}
        )
        for prefix, seqs in runs
        for seq in seqs
    ]


@pytest.mark.parametrize(
    ("events", "gaps"),
    [
        (runs(("a", [1, 2, 3, 4, 5]), ("b", [1, 2, 3])), []),
        # A restart whose first two events were lost, then three more lost.
        (runs(("a", list(range(1, 101))), ("b", [3, 4, 5, 9, 10])), [(1, 3), (6, 9)]),
        # An earlier run's event redelivered after the restart changes nothing.
        (runs(("a", [1, 2, 3]), ("b", [1, 2]), ("a", [2]), ("b", [3])), []),
        (runs(("a", [1, 2, 3]), ("b", [1, 2]), ("a", [2]), ("b", [5])), [(3, 5)]),
    ],
    ids=["restart", "restart-losing-events", "old-run-redelivered", "gap-after-old-run"],
)
def test_a_restarted_publisher_is_a_new_run_counted_from_1(
    events: list[RequestCompleted], gaps: list[tuple[int, int]]
) -> None:
    seen: list[Gap] = []
    detector = GapDetector(seen.append)
    for event in events:
        detector.observe(event)
    assert [(gap.expected, gap.got) for gap in seen] == gaps


def test_without_a_run_in_the_id_a_1_again_is_a_restart() -> None:
    seen: list[Gap] = []
    detector = GapDetector(seen.append)
    for event in numbered([4, 5, 1, 2, 4]):
        detector.observe(event.model_copy(update={"event_id": f"id-{event.publisher_seq}"}))
    assert [(gap.expected, gap.got) for gap in seen] == [(3, 4)]


def test_publishers_and_types_are_counted_apart() -> None:
    detector = GapDetector()
    for event in [*numbered([1], "p1"), *numbered([1], "p2"), *numbered([2], "p1")]:
        detector.observe(event)
    assert detector.gaps == 0


def test_recent_ids_forget_the_oldest_first() -> None:
    ids = RecentIds(capacity=2)
    for event_id in ("a", "b", "a", "c"):
        ids.add(event_id)
    assert "a" not in ids and "b" in ids and "c" in ids and len(ids) == 2


def test_the_lenient_codec_ignores_added_fields_the_strict_one_refuses() -> None:
    payload = orjson.dumps(completed_json("a/b", 1, energy_joules=3.0))
    with pytest.raises(EventDecodeError, match="energy_joules"):
        default_codec().decode(payload)
    event = lenient_codec(default_codec()).decode(payload)
    assert isinstance(event, RequestCompleted) and event.request_id == "r1"
    assert default_codec().decode(default_codec().encode(event)) == completed("a/b", 1).model_copy(
        update={"event_id": event.event_id, "occurred_at": event.occurred_at}
    )


def test_fields_added_inside_nested_objects_are_ignored_too() -> None:
    """A later release may add a field to an endpoint's metrics (an optional field is
    a compatible change): a consumer on this release still gets the typed event, as a
    single payload and inside a batch."""
    observed = EndpointMetricsObserved(
        source="c",
        pool="a/b",
        address="10.0.0.1:8000",
        scraped_at=NOW,
        metrics=EndpointMetrics(waiting_queue_size=2, running_requests=1, kv_cache_usage=0.5),
    )
    raw = orjson.loads(default_codec().encode(observed))
    raw["metrics"]["kv_free_blocks"] = 7
    single = orjson.dumps(raw)
    with pytest.raises(EventDecodeError, match="kv_free_blocks"):
        default_codec().decode(single)
    reader = lenient_codec(default_codec())
    event = reader.decode(single)
    assert isinstance(event, EndpointMetricsObserved)
    assert event.metrics.waiting_queue_size == 2
    batch = reader.decode_batch(orjson.dumps([raw, completed_json("a/b", 1)]))
    assert batch.errors == []
    assert [type(e).__mro__[1] for e in batch.events] == [EndpointMetricsObserved, RequestCompleted]


def test_a_message_decodes_to_typed_and_raw_events_in_order() -> None:
    newer = {**completed_json("a/b", 2), "schema_version": 9}
    items = decode_message(
        lenient_codec(default_codec()), orjson.dumps([completed_json("a/b", 1), newer])
    )
    assert isinstance(items[0].event, RequestCompleted)
    assert isinstance(items[1].event, RawEvent) and "newer" in items[1].event.reason
    assert items[1].raw == newer
    # An item that is not an object does not cost the batch its valid events.
    mixed = decode_message(
        default_codec(), b"[" + orjson.dumps(completed_json("a/b", 1)) + b", 42]"
    )
    assert isinstance(mixed[0].event, RequestCompleted)
    assert isinstance(mixed[1].event, RawEvent)
    assert mixed[1].event.reason == "event 2 of 2 is not a JSON object"
    with pytest.raises(EventDecodeError, match="neither a JSON object nor an array"):
        decode_message(default_codec(), b"42")


def test_ce_type_names_the_subject_kind_type_and_version() -> None:
    subject = routing_subject("default/sim-pool", "routed")
    name = ce_type(subject_kind(subject), "RequestRouted", 1)
    assert name == "io.gie.routing.RequestRouted.v1"
    assert type_of(name) == "RequestRouted"
    assert type_of("com.example.Other") is None
    assert subject_kind("other.subject") == "event"
