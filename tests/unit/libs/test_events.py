from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from gie.events import (
    BUILTIN_EVENT_TYPES,
    Endpoint,
    EndpointMetrics,
    EndpointMetricsObserved,
    EndpointRemoved,
    EndpointUpserted,
    Event,
    EventCodec,
    EventDecodeError,
    ModelRewriteRemoved,
    ModelRewriteUpserted,
    ObjectiveRemoved,
    ObjectiveUpserted,
    PoolSaturationChanged,
    RequestCompleted,
    RequestRouted,
    RewriteRule,
    RewriteTarget,
    default_codec,
)
from gie.events.flow import RequestDispatched, RequestEvicted, RequestQueued, RequestRejected
from gie.events.hashes import pack_hashes
from gie.events.kv import KvBlocksRemoved, KvBlocksStored, KvCacheCleared, KvStateUnknown

POOL = "default/sim-pool"
T0 = datetime(2026, 1, 1, tzinfo=UTC)

SAMPLES: list[Event] = [
    EndpointUpserted(
        source="ingest-0",
        pool=POOL,
        endpoint=Endpoint(address="10.0.0.1:8000", name="pod-a", labels={"zone": "a"}),
    ),
    EndpointRemoved(source="ingest-0", pool=POOL, address="10.0.0.1:8000"),
    EndpointMetricsObserved(
        source="collector-0",
        pool=POOL,
        address="[fd00::1]:8000",
        scraped_at=T0,
        metrics=EndpointMetrics(
            waiting_queue_size=3, running_requests=7, kv_cache_usage=0.5, kv_block_size=16
        ),
    ),
    RequestRouted(
        source="picker-0",
        pool=POOL,
        correlation_id="req-1",
        request_id="req-1",
        model="sim-llama",
        target="10.0.0.1:8000",
        fallbacks=("10.0.0.2:8000",),
        picker="picker-0",
        prompt_bytes=42,
    ),
    RequestCompleted(
        source="picker-0",
        pool=POOL,
        correlation_id="req-1",
        request_id="req-1",
        target="10.0.0.1:8000",
        picker="picker-0",
        status=200,
        prompt_tokens=10,
        completion_tokens=5,
        cached_tokens=8,
        duration_s=0.25,
    ),
    ObjectiveUpserted(source="ingest-0", pool=POOL, name="batch", priority=-1),
    RequestQueued(
        source="fc-0",
        pool=POOL,
        request_id="req-2",
        fairness_id="tenant-a",
        priority=0,
        shard=1,
        byte_size=120,
        input_tokens=30,
        output_tokens=16,
    ),
    RequestDispatched(
        source="fc-0",
        pool=POOL,
        request_id="req-2",
        fairness_id="tenant-a",
        priority=0,
        shard=1,
        queued_s=0.5,
        charge=46.0,
    ),
    RequestRejected(
        source="fc-0",
        pool=POOL,
        request_id="req-3",
        fairness_id="tenant-b",
        priority=-1,
        byte_size=99,
        reason="band-bytes",
    ),
    RequestEvicted(
        source="fc-0",
        pool=POOL,
        request_id="req-4",
        fairness_id="tenant-b",
        priority=0,
        shard=0,
        queued_s=30.0,
        reason="ttl",
        outcome="EvictedTTL",
    ),
    ObjectiveRemoved(source="ingest-0", pool=POOL, name="batch"),
    ModelRewriteUpserted(
        source="ingest-0",
        pool=POOL,
        name="canary",
        created=datetime(2026, 1, 1, tzinfo=UTC),
        rules=(
            RewriteRule(
                matches=("sim-llama",),
                targets=(
                    RewriteTarget(model="sim-llama-v1", weight=80),
                    RewriteTarget(model="sim-llama-v2", weight=20),
                ),
            ),
            RewriteRule(targets=(RewriteTarget(model="sim-llama-v1"),)),
        ),
    ),
    ModelRewriteRemoved(source="ingest-0", pool=POOL, name="canary"),
    PoolSaturationChanged(
        source="collector-0",
        pool=POOL,
        saturated=True,
        endpoints_with_capacity=0,
        endpoints_total=3,
        reason="every endpoint's queue is above 5",
    ),
    KvCacheCleared(
        source="collector-0", pool=POOL, address="10.0.0.1:8000", epoch="e1", seq=-1, reason="start"
    ),
    KvBlocksStored(
        source="collector-0",
        pool=POOL,
        address="10.0.0.1:8000",
        epoch="e1",
        seq=0,
        block_size=16,
        block_keys=pack_hashes([1, 2**64 - 1]),
        engine_hashes=pack_hashes([7, 8]),
    ),
    KvBlocksRemoved(
        source="collector-0",
        pool=POOL,
        address="10.0.0.1:8000",
        epoch="e1",
        seq=1,
        block_keys=pack_hashes([2**64 - 1]),
        engine_hashes=pack_hashes([8]),
    ),
    KvStateUnknown(
        source="collector-0",
        pool=POOL,
        address="10.0.0.1:8000",
        epoch="e1",
        seq=5,
        reason="gap",
        missing_from=2,
        missing_to=4,
    ),
]


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.type)
def test_every_event_round_trips_through_the_codec(event: Event) -> None:
    codec = default_codec()
    decoded = codec.decode(codec.encode(event))
    assert decoded == event
    assert type(decoded) is type(event)
    assert decoded.type == type(event).TYPE
    assert decoded.schema_version == 1


def test_every_builtin_type_has_a_sample() -> None:
    assert {type(e) for e in SAMPLES} == set(BUILTIN_EVENT_TYPES)


def test_events_are_immutable() -> None:
    event = SAMPLES[0]
    with pytest.raises(ValueError, match="frozen"):
        event.source = "someone-else"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"type": "NoSuchEvent"}', "unknown event type 'NoSuchEvent'"),
        (b'{"type": "EndpointRemoved", "source": "x", "pool": "a/b"}', "address"),
        (
            b'{"type": "EndpointRemoved", "source": "x", "pool": "a/b", "address": "nope"}',
            "ip:port",
        ),
        (
            b'{"type": "EndpointRemoved", "source": "x", "pool": "a/b", '
            b'"address": "1.2.3.4:80", "surprise": 1}',
            "surprise",
        ),
        (
            b'{"type": "EndpointRemoved", "schema_version": 9, "source": "x", "pool": "a/b", '
            b'"address": "1.2.3.4:80"}',
            "newer than this build",
        ),
    ],
    ids=[
        "not-json",
        "not-object",
        "unknown-type",
        "missing-field",
        "bad-address",
        "extra-field",
        "future-version",
    ],
)
def test_malformed_payloads_raise_a_named_decode_error(payload: bytes, problem: str) -> None:
    with pytest.raises(EventDecodeError, match=problem):
        default_codec().decode(payload)


class RenamedV2(Event):
    """A v2 event whose field was renamed from v1's ``old_name``."""

    TYPE = "RenamedForTest"
    SCHEMA_VERSION = 2

    new_name: str


def test_old_schema_versions_are_upcast_on_decode() -> None:
    codec = EventCodec([RenamedV2])

    def v1_to_v2(raw: dict[str, object]) -> dict[str, object]:
        raw["new_name"] = raw.pop("old_name")
        return raw

    codec.register_upcaster("RenamedForTest", 1, v1_to_v2)
    old = (
        b'{"type": "RenamedForTest", "schema_version": 1, "source": "s", "pool": "a/b", '
        b'"old_name": "kept"}'
    )
    event = codec.decode(old)
    assert isinstance(event, RenamedV2)
    assert event.new_name == "kept"
    assert event.schema_version == 2


def test_registering_a_type_twice_is_an_error() -> None:
    codec = default_codec()
    with pytest.raises(ValueError, match="already registered"):
        codec.register(EndpointRemoved)


def test_block_hashes_travel_packed_and_unpack_exactly() -> None:
    hashes = (0, 1, 2**64 - 1, 12345678901234567890)
    event = RequestRouted(
        source="p",
        pool=POOL,
        request_id="r",
        model="m",
        target="10.0.0.1:8000",
        picker="p",
        block_hashes=pack_hashes(hashes),
        prefix_capacity=10,
    )
    decoded = default_codec().decode(default_codec().encode(event))
    assert isinstance(decoded, RequestRouted)
    assert decoded.hashes == hashes


@pytest.mark.parametrize("packed", ["not base64!", "AAAA"], ids=["not-base64", "partial-hash"])
def test_malformed_block_hashes_are_rejected(packed: str) -> None:
    payload = (
        b'{"type": "RequestRouted", "source": "p", "pool": "a/b", "request_id": "r", '
        b'"model": "m", "target": "10.0.0.1:80", "picker": "p", "block_hashes": "'
        + packed.encode()
        + b'"}'
    )
    with pytest.raises(EventDecodeError, match="block_hashes"):
        default_codec().decode(payload)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.type)
def test_every_event_is_written_as_pydantic_writes_it(event: Event) -> None:
    # Flat events are written by orjson (faster): byte for byte what pydantic writes.
    assert default_codec().encode(event) == event.__pydantic_serializer__.to_json(event)
    batch = default_codec().encode_batch([event, event])
    one = event.__pydantic_serializer__.to_json(event)
    assert batch == b"[" + one + b"," + one + b"]"


def test_a_rewrite_rule_with_some_weights_missing_is_refused() -> None:
    with pytest.raises(ValidationError, match="every target or on none"):
        RewriteRule(
            targets=(RewriteTarget(model="a", weight=1), RewriteTarget(model="b")),
        )


def test_a_rewrite_rule_needs_a_target_and_weights_in_range() -> None:
    with pytest.raises(ValidationError, match="targets"):
        RewriteRule(matches=("a",), targets=())
    with pytest.raises(ValidationError, match="weight"):
        RewriteTarget(model="a", weight=1_000_001)
