"""Events read from the bus: any payload decodes to events or an EventDecodeError (and
the picker's prefix snapshot from the bus's object store to a snapshot or a SnapshotError).

Payloads are bounded by the NATS server's max_payload (1 MiB by default) before they
reach the codec; nesting by orjson's depth limit (1024), which the codec reports as an
EventDecodeError like any other unreadable payload.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gie.events import default_codec
from gie.events.errors import EventDecodeError
from gie.prefix import SnapshotError, decode_snapshot
from tests.unit.fuzz.conftest import FUZZ, json_values, nested

CODEC = default_codec()
EXAMPLES = [
    json.loads(path.read_text())
    for path in sorted(
        (Path(__file__).resolve().parents[3] / "schemas/gie/v1/examples").glob("*.json")
    )
]


@st.composite
def mutated_examples(draw: st.DrawFn) -> dict[str, Any]:
    """A published example event with one field replaced, removed or added."""
    event = dict(draw(st.sampled_from(EXAMPLES)))
    field = draw(st.sampled_from(sorted(event)) | st.text(max_size=6))
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "remove":
        event.pop(field, None)
    else:
        event[field] = draw(json_values)
    return event


def decode_all(payload: bytes) -> None:
    try:
        batch = CODEC.decode_batch(payload)
    except EventDecodeError:
        return
    assert all(str(error) for error in batch.errors)
    for event in batch.events:
        assert event.TYPE == type(event).TYPE


@FUZZ
@given(event=mutated_examples())
def test_a_mutated_event_decodes_or_is_an_event_decode_error(event: dict[str, Any]) -> None:
    payload = orjson.dumps(event)
    try:
        CODEC.decode(payload)
    except EventDecodeError as exc:
        assert str(exc)
    decode_all(payload)


@FUZZ
@given(events=st.lists(mutated_examples() | json_values, max_size=5))
def test_a_batch_keeps_its_valid_events_and_names_the_bad_ones(events: list[Any]) -> None:
    decode_all(orjson.dumps(events))


@FUZZ
@given(payload=st.binary(max_size=200))
def test_any_bytes_decode_or_are_an_event_decode_error(payload: bytes) -> None:
    decode_all(payload)


@pytest.mark.parametrize("payload", [nested(2000), b'{"a":' + nested(2000) + b"}"])
def test_deeply_nested_json_is_an_event_decode_error(payload: bytes) -> None:
    with pytest.raises(EventDecodeError, match="depth limit"):
        CODEC.decode_batch(payload)


@FUZZ
@given(
    document=st.fixed_dictionaries(
        {"version": st.just(1) | json_values, "pool": st.just("p") | json_values},
        optional={"endpoints": json_values, "stream_seq": json_values},
    )
    | json_values,
    garbage=st.binary(max_size=40),
)
def test_a_prefix_snapshot_from_the_object_store_loads_or_is_a_snapshot_error(
    document: object, garbage: bytes
) -> None:
    for data in (zlib.compress(orjson.dumps(document)), garbage):
        try:
            snapshot = decode_snapshot(data, pool="p")
        except SnapshotError as exc:
            assert str(exc)
        else:
            assert snapshot.stream_seq == int(document["stream_seq"])  # type: ignore[index]
