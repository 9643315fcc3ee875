"""Flat events are written by orjson instead of pydantic: the same bytes for every value
a field can hold, and models it cannot reproduce stay with pydantic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import field_serializer

from gie.events import (
    EndpointMetricsObserved,
    EndpointUpserted,
    Event,
    RequestCompleted,
    RequestRouted,
    default_codec,
)
from gie.events.plain_json import plain_json


def completed(**values: object) -> RequestCompleted:
    base: dict[str, object] = {
        "source": "s",
        "pool": "a/b",
        "request_id": "r",
        "target": "10.0.0.1:8000",
        "picker": "p",
        "status": 200,
    }
    return RequestCompleted(**{**base, **values})


def routed(**values: object) -> RequestRouted:
    base: dict[str, object] = {
        "source": "s",
        "pool": "a/b",
        "request_id": "r",
        "model": "m",
        "target": "10.0.0.1:8000",
        "picker": "p",
    }
    return RequestRouted(**{**base, **values})


TEXTS = ["é 中文 😀", "\x00\x01\x1f\x7f", '"\\/', "\u2028\t\n\r\b\f"]
FLOATS = [0.0, 1e-7, 1e16, 1e21, 1e22, 5e-324, 0.1 + 0.2, 1.5e300]
EDGES: list[Event] = [
    completed(occurred_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),  # no fraction
    completed(occurred_at=datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=timezone(timedelta(hours=2)))),
    completed(occurred_at=datetime(2026, 1, 2, 3, 4, 5, 120000)),  # naive
    completed(occurred_at=datetime(2026, 1, 2, 3, 4, 5, 1, tzinfo=timezone(-timedelta(hours=5.5)))),
    *(routed(request_id=text, model=text) for text in TEXTS),
    *(completed(duration_s=value) for value in FLOATS),
    *(routed(prompt_bytes=value) for value in [0, 2**63 - 1, 2**64 - 1]),
    routed(fallbacks=("10.0.0.2:8000", "[::1]:80"), session="k" * 64, prefix_capacity=7),
]


@pytest.mark.parametrize("event", EDGES)
def test_orjson_writes_the_bytes_pydantic_writes(event: Event) -> None:
    codec = default_codec()
    assert codec.encode(event) == event.__pydantic_serializer__.to_json(event)
    assert codec.decode(codec.encode(event)) == event


def test_an_int_beyond_64_bits_falls_back_to_pydantic() -> None:
    codec = default_codec()
    big = routed(prompt_bytes=2**70)
    assert codec.encode(big) == big.__pydantic_serializer__.to_json(big)
    assert codec.decode_batch(codec.encode_batch([big, completed()])).events[0] == big


class WithSerializer(Event):
    TYPE = "PlainJsonSerializerForTest"

    note: str

    @field_serializer("note")
    def _shout(self, value: str) -> str:
        return value.upper()


def test_models_orjson_cannot_reproduce_stay_with_pydantic() -> None:
    assert plain_json(RequestRouted) and plain_json(RequestCompleted)
    assert not plain_json(EndpointUpserted)  # a nested model
    assert not plain_json(EndpointMetricsObserved)
    assert not plain_json(WithSerializer)
    event = WithSerializer(source="s", pool="a/b", note="quiet")
    assert b'"note":"QUIET"' in default_codec().encode(event)
