"""Events built without validation (``Event.trusted``) are the events the validating
constructor builds: same fields, same defaults, same bytes on the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gie.events import RequestCompleted, RequestRouted, default_codec

ROUTED: dict[str, Any] = {
    "source": "picker-a",
    "pool": "ns/pool",
    "correlation_id": "r1",
    "request_id": "r1",
    "model": "m",
    "target": "10.0.0.1:8000",
    "fallbacks": ("10.0.0.2:8000",),
    "picker": "picker-a",
    "prompt_bytes": 60,
    "session": "abc",
}
COMPLETED: dict[str, Any] = {
    "source": "picker-a",
    "pool": "ns/pool",
    "request_id": "r1",
    "target": "10.0.0.1:8000",
    "picker": "picker-a",
    "status": 200,
    "prompt_tokens": 5,
}
ENVELOPE = {"event_id": "e" * 32, "occurred_at": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)}


@pytest.mark.parametrize(
    ("model", "values"),
    [(RequestRouted, ROUTED), (RequestCompleted, COMPLETED)],
    ids=["routed", "completed"],
)
def test_a_trusted_event_equals_the_validated_one_byte_for_byte(
    model: type[RequestRouted] | type[RequestCompleted], values: dict[str, Any]
) -> None:
    codec = default_codec()
    trusted = model.trusted(**values, **ENVELOPE)
    validated = model(**values, **ENVELOPE)
    assert trusted == validated
    assert codec.encode(trusted) == codec.encode(validated)
    assert codec.decode(codec.encode(trusted)) == trusted
    assert trusted.type == model.TYPE
    assert trusted.schema_version == model.SCHEMA_VERSION


def test_the_envelope_is_filled_per_event() -> None:
    first, second = RequestRouted.trusted(**ROUTED), RequestRouted.trusted(**ROUTED)
    assert first.event_id != second.event_id
    assert first.occurred_at.tzinfo is not None
    assert first.prefix_capacity is None and first.block_hashes == ""  # defaults


def test_a_trusted_event_is_as_immutable_as_any() -> None:
    event = RequestCompleted.trusted(**COMPLETED)
    with pytest.raises(ValueError, match="frozen"):
        event.status = 500  # type: ignore[misc]


def test_an_unknown_field_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match=r"RequestRouted has no field.*surprise"):
        RequestRouted.trusted(**ROUTED, surprise=1)


def test_a_missing_required_field_is_refused_by_name() -> None:
    values = {k: v for k, v in COMPLETED.items() if k != "status"}
    with pytest.raises(TypeError, match="RequestCompleted needs status"):
        RequestCompleted.trusted(**values)
