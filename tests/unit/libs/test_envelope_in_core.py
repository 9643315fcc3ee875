"""The envelope checked inside pydantic's core gives the model's own answers.

The fast decode path (``gie.events.batch_validator``) validates current events with
the envelope's ``type``/``schema_version`` check done by the core instead of the
Python after-validator. For every payload below it must accept exactly what the
model accepts, with equal events and the same fields set, and refuse the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from pydantic import ValidationError
from pydantic_core import SchemaValidator

from gie.events import (
    Endpoint,
    EndpointUpserted,
    Event,
    RequestCompleted,
    default_codec,
)
from gie.events.batch_validator import BatchValidator, envelope_in_core
from tests.support.routing_events import routed

POOL = "test/envelope"

EVENTS: list[Event] = [
    routed(POOL, 1),
    RequestCompleted(
        source="t", pool=POOL, request_id="r1", target="10.0.0.1:8000", picker="t", status=200
    ),
    EndpointUpserted(source="t", pool=POOL, endpoint=Endpoint(address="10.0.0.2:8000")),
]


def _set(key: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda raw: raw.__setitem__(key, value)


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda raw: raw.pop(key)


CHANGES = {
    "as-published": lambda raw: None,
    "no-schema_version": _drop("schema_version"),
    "schema_version-0": _set("schema_version", 0),
    "schema_version-2": _set("schema_version", 2),
    "schema_version-string": _set("schema_version", "1"),
    "schema_version-float": _set("schema_version", 1.0),
    "schema_version-true": _set("schema_version", True),
    "schema_version-null": _set("schema_version", None),
    "no-type": _drop("type"),
    "type-of-another-event": _set("type", "EndpointRemoved"),
    "type-empty": _set("type", ""),
    "type-number": _set("type", 5),
    "unknown-field": _set("surprise", 1),
    "empty-pool": _set("pool", ""),
}


def _answer(validate: Callable[[bytes], Event], payload: bytes) -> tuple[Event, set[str]] | str:
    try:
        event = validate(payload)
    except ValidationError:
        return "refused"
    return event, set(event.model_fields_set)


@pytest.mark.parametrize("change", list(CHANGES.values()), ids=list(CHANGES))
@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.type)
def test_the_core_check_answers_as_the_model(
    event: Event, change: Callable[[dict[str, Any]], None]
) -> None:
    model = type(event)
    schema = envelope_in_core(model)
    assert schema is not None, f"{model.__name__}'s schema changed shape: the fast path is off"
    raw = orjson.loads(default_codec().encode(event))
    change(raw)
    payload = orjson.dumps(raw)
    in_core = SchemaValidator(schema)
    expected = _answer(model.model_validate_json, payload)
    assert _answer(in_core.validate_json, payload) == expected
    if expected != "refused":
        assert type(in_core.validate_json(payload)) is model


def test_the_fast_path_takes_one_event_and_refuses_what_the_codec_must_name() -> None:
    validator = BatchValidator(default_codec().types)
    event = routed(POOL, 2)
    payload = default_codec().encode(event)
    assert validator.validate_one(payload) == event
    assert validator.validate_one(payload.replace(b'"pool":"test/envelope"', b'"pool":""')) is None
    assert validator.validate_one(b"[" + payload + b"]") is None
    assert validator.validate(b"[" + payload + b"]") == [event]
