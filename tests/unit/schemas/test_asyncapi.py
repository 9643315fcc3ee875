"""schemas/asyncapi.yaml is a valid AsyncAPI 3.0 document that covers every event type
and every kind of subject, with the streams that really store them."""

from __future__ import annotations

import copy
import inspect
import json
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator, Draft202012Validator, ValidationError

from gie.bus import subject_matches
from gie.bus.ce_headers import CeHeaders
from gie.bus.streams import ALL_STREAMS
from gie.events import BUILTIN_EVENT_TYPES, KvBlocksRemoved, KvBlocksStored, subjects
from gie.events.hashes import pack_hashes
from gie.schemas.asyncapi import asyncapi_document
from tests.unit.schemas.conftest import ROOT

SCHEMAS = ROOT / "schemas"
DOCUMENT: dict[str, Any] = yaml.safe_load((SCHEMAS / "asyncapi.yaml").read_text())
ASYNCAPI_SCHEMA = json.loads(
    (SCHEMAS / "vendor" / "asyncapi" / "asyncapi-3.0.0.schema.json").read_text()
)
# subjects.py's functions that spell one kind of subject, by the channel they feed.
SUBJECT_FUNCTIONS = {
    name.removesuffix("_subject"): function
    for name, function in inspect.getmembers(subjects, inspect.isfunction)
    if name.endswith("_subject")
}
EXAMPLE_VALUES = {"pool": "default/sim-pool", "address": "10.0.0.1:8000", "name": "batch"}


def messages_of(channel: dict[str, Any]) -> list[dict[str, Any]]:
    refs = [ref["$ref"].rsplit("/", 1)[1] for ref in channel["messages"].values()]
    return [DOCUMENT["components"]["messages"][name] for name in refs]


def test_the_document_is_valid_asyncapi_3() -> None:
    assert DOCUMENT["asyncapi"] == "3.0.0"
    Draft7Validator(ASYNCAPI_SCHEMA).validate(DOCUMENT)


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("operation action", lambda d: d["operations"]["sendRouting"].update(action="publish")),
        ("channel address", lambda d: d["channels"]["routing"].update(address=42)),
        ("missing info", lambda d: d.pop("info")),
    ],
    ids=["action", "address", "info"],
)
def test_the_vendored_schema_catches_an_invalid_document(where: str, change: Any) -> None:
    broken = copy.deepcopy(DOCUMENT)
    change(broken)
    with pytest.raises(ValidationError):
        Draft7Validator(ASYNCAPI_SCHEMA).validate(broken)


def test_every_event_type_has_a_message_on_a_channel() -> None:
    carried = {
        message["name"]
        for channel in DOCUMENT["channels"].values()
        for message in messages_of(channel)
    }
    assert {event_type.TYPE for event_type in BUILTIN_EVENT_TYPES} <= carried


def test_every_kind_of_subject_has_a_channel() -> None:
    assert set(SUBJECT_FUNCTIONS) == set(DOCUMENT["channels"])


@pytest.mark.parametrize("key", sorted(SUBJECT_FUNCTIONS))
def test_a_channel_address_spells_the_subjects_of_the_code(key: str) -> None:
    """Filling the channel's parameters gives what subjects.py publishes on, and the
    stream named for the channel is the one that stores those subjects."""
    channel = DOCUMENT["channels"][key]
    function = SUBJECT_FUNCTIONS[key]
    kinds = channel["parameters"].get("kind", {}).get("enum", [None])
    for kind in kinds:
        values = {**EXAMPLE_VALUES, "kind": kind}
        arguments = [values[name] for name in inspect.signature(function).parameters]
        expected = function(*arguments)
        address = channel["address"]
        for name, value in values.items():
            if value is not None:
                escaped = value if name == "kind" else subjects.escape_token(value)
                address = address.replace(f"{{{name}}}", escaped)
        assert address == expected
        (stream,) = [
            s for s in ALL_STREAMS if any(subject_matches(p, expected) for p in s.subjects)
        ]
        assert channel["x-gie-stream"] == stream.name


@pytest.mark.parametrize("stream", ALL_STREAMS, ids=lambda s: s.name)
def test_stream_retention_is_the_code_s(stream: Any) -> None:
    described = DOCUMENT["x-gie-streams"][stream.name]
    assert described["subjects"] == list(stream.subjects)
    assert described["duplicate_window_s"] == stream.duplicate_window_s
    assert described.get("max_bytes", -1) == stream.max_bytes
    assert described.get("max_age_s", 0.0) == stream.max_age_s
    assert described.get("max_msgs_per_subject", -1) == stream.max_msgs_per_subject


def test_every_payload_refers_to_the_schema_of_its_type() -> None:
    for name, message in DOCUMENT["components"]["messages"].items():
        schema = message["payload"]["schema"]
        if "oneOf" in schema.get("items", {}):  # a batch of several types
            for choice in schema["items"]["oneOf"]:
                assert json.loads((SCHEMAS / choice["$ref"]).read_text())["title"]
            dataschema = message["headers"]["allOf"][1]["properties"]["ce-dataschema"]["const"]
            assert dataschema.endswith("/Batch.json")
            continue
        ref = schema["items"]["$ref"] if name.endswith("Batch") else schema["$ref"]
        target = json.loads((SCHEMAS / ref).read_text())
        assert target["title"] == name.removesuffix("Batch")
        dataschema = message["headers"]["allOf"][1]["properties"]["ce-dataschema"]["const"]
        assert dataschema == target["$id"]


def test_only_routing_and_kv_subjects_carry_batches() -> None:
    batched = {
        key
        for key, channel in DOCUMENT["channels"].items()
        for message in messages_of(channel)
        if message["name"].endswith("Batch")
    }
    assert batched == {"routing", "kv"}


def headers_schema(message: str) -> dict[str, Any]:
    """The headers of a message as one schema (the shared part inlined)."""
    shared = DOCUMENT["components"]["schemas"]["CloudEventsHeaders"]
    own = DOCUMENT["components"]["messages"][message]["headers"]["allOf"][1]
    return {"allOf": [shared, own]}


HEADERS = {
    "ce-specversion": "1.0",
    "ce-type": "io.gie.routing.RequestRouted.v1",
    "ce-source": "/gie/picker/picker-0",
    "ce-id": "0000000000000000000000005eed0003",
    "ce-time": "2026-03-02T09:30:03.125Z",
    "ce-dataschema": "https://gie.dev/schemas/gie/v1/RequestRouted.json",
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "Nats-Msg-Id": "0000000000000000000000005eed0003",
}


def test_a_cloudevents_header_set_validates() -> None:
    Draft202012Validator(headers_schema("RequestRouted")).validate(HEADERS)
    Draft202012Validator(headers_schema("RequestRoutedBatch")).validate(HEADERS)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"ce-specversion": "0.3"}, "'1.0' was expected"),
        ({"ce-type": "io.gie.routing.RequestCompleted.v1"}, "does not match"),
        ({"ce-dataschema": "https://gie.dev/schemas/gie/v1/Other.json"}, "was expected"),
        ({"traceparent": "not-a-trace"}, "does not match"),
        ({"ce-id": None}, "'ce-id' is a required property"),
    ],
    ids=["specversion", "type", "dataschema", "traceparent", "no-id"],
)
def test_a_wrong_header_is_refused(change: dict[str, Any], problem: str) -> None:
    headers = {k: v for k, v in {**HEADERS, **change}.items() if v is not None}
    with pytest.raises(ValidationError, match=problem):
        Draft202012Validator(headers_schema("RequestRouted")).validate(headers)


def test_the_committed_document_is_the_generated_one() -> None:
    assert asyncapi_document() == DOCUMENT


def test_the_headers_of_a_kv_step_of_mixed_types_match_one_kv_message() -> None:
    """A KV engine step's batch may hold stores, removals and a clear: gie heads it as a
    Batch, which the kv channel must offer (a consumer validating against the document
    would refuse it otherwise)."""
    pool, address = "default/sim-pool", "10.0.0.1:8000"
    subject = subjects.kv_subject(pool, address)
    events = [
        KvBlocksStored(
            source="c",
            pool=pool,
            address=address,
            epoch="e",
            seq=1,
            block_size=16,
            block_keys=pack_hashes([1]),
        ),
        KvBlocksRemoved(
            source="c", pool=pool, address=address, epoch="e", seq=1, block_keys=pack_hashes([1])
        ),
    ]
    block = CeHeaders("/gie/metrics-collector/c-0").batch_block(subject, events, msg_id="m1")
    headers = dict(line.split(": ", 1) for line in block.decode().split("\r\n")[1:] if ": " in line)
    kv = DOCUMENT["channels"]["kv"]
    matching = []
    for message in messages_of(kv):
        try:
            Draft202012Validator(headers_schema(message["name"])).validate(headers)
        except ValidationError:
            continue
        matching.append(message["name"])
    assert matching == ["KvBatch"]
