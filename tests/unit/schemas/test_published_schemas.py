"""The committed JSON Schemas describe what gie writes, and every frozen release still
accepts the examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError
from pydantic import Field
from referencing import Registry, Resource

from gie.events import BUILTIN_EVENT_TYPES, Event, EventDecodeError, default_codec, schema_uri
from gie.events.address import Address
from gie.schemas import event_schema, published_schemas, release_breaks
from gie.schemas.field_docs import FIELD_DOCS
from tests.unit.libs.test_events import SAMPLES
from tests.unit.schemas.conftest import ROOT

CURRENT = ROOT / "schemas" / "gie" / "v1"
EXAMPLES = CURRENT / "examples"
RELEASES = sorted(
    (d for d in (CURRENT / "frozen").iterdir() if d.name.isdigit()), key=lambda d: int(d.name)
)
TYPES = [event_type.TYPE for event_type in BUILTIN_EVENT_TYPES]


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def validator(directory: Path, name: str) -> Draft202012Validator:
    """A validator of ``<name>.json`` in ``directory``, resolving its sibling files."""
    resources = [
        (schema["$id"], Resource.from_contents(schema))
        for schema in map(load, sorted(directory.glob("*.json")))
    ]
    schema = load(directory / f"{name}.json")
    return Draft202012Validator(schema, registry=Registry().with_resources(resources))


def example(name: str) -> dict[str, Any]:
    return load(EXAMPLES / f"{name}.json")  # type: ignore[no-any-return]


def test_there_is_a_first_frozen_release() -> None:
    assert [release.name for release in RELEASES][:1] == ["1"]


@pytest.mark.parametrize("name", TYPES)
def test_every_type_has_a_schema_with_its_uri_and_an_example(name: str) -> None:
    schema = load(CURRENT / f"{name}.json")
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == schema_uri(name) == f"https://gie.dev/schemas/gie/v1/{name}.json"
    assert schema["properties"]["type"]["const"] == name
    assert example(name)["type"] == name


@pytest.mark.parametrize("name", TYPES)
def test_an_example_is_a_real_event(name: str) -> None:
    event = default_codec().decode((EXAMPLES / f"{name}.json").read_bytes())
    assert event.type == name


@pytest.mark.parametrize("release", [*RELEASES, CURRENT], ids=lambda d: d.name)
@pytest.mark.parametrize("name", TYPES)
def test_every_example_validates_against_every_release(release: Path, name: str) -> None:
    if not (release / f"{name}.json").exists():
        pytest.skip(f"{name} is newer than release {release.name}")
    validator(release, name).validate(example(name))
    validator(release, "Envelope").validate(example(name))


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.type)
def test_what_the_codec_writes_validates(event: Event) -> None:
    payload = json.loads(default_codec().encode(event))
    validator(CURRENT, event.type).validate(payload)


def test_a_batch_validates_as_a_batch() -> None:
    routed = [event for event in SAMPLES if event.type in {"RequestRouted", "RequestCompleted"}]
    batch = json.loads(default_codec().encode_batch(routed))
    validator(CURRENT, "Batch").validate(batch)
    with pytest.raises(ValidationError, match="'event_id' is a required property"):
        validator(CURRENT, "Batch").validate([*batch, {"type": "RequestRouted"}])


def test_consumers_may_receive_added_fields_the_codec_refuses() -> None:
    newer = {**example("RequestRouted"), "target_model": "sim-llama-v2"}
    validator(CURRENT, "RequestRouted").validate(newer)
    with pytest.raises(EventDecodeError, match="target_model"):
        default_codec().decode(json.dumps(newer).encode())


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"target": "nowhere"}, "does not match"),
        ({"type": "RequestCompleted"}, "'RequestRouted' was expected"),
        ({"schema_version": 2}, "1 was expected"),
        ({"prompt_bytes": -1}, "less than the minimum"),
        ({"session": "x" * 65}, "is not valid under any of the given schemas"),
    ],
    ids=["address", "type", "version", "negative", "too-long"],
)
def test_the_schema_refuses_what_gie_refuses(change: dict[str, Any], problem: str) -> None:
    bad = {**example("RequestRouted"), **change}
    with pytest.raises(ValidationError, match=problem):
        validator(CURRENT, "RequestRouted").validate(bad)
    with pytest.raises(EventDecodeError):
        default_codec().decode(json.dumps(bad).encode())


def test_a_removed_field_in_a_model_fails_the_gate_against_release_1() -> None:
    """A deliberately incompatible model: RequestCompleted without ``cached_tokens``
    and with ``status`` as text."""

    class RequestCompleted(Event):
        TYPE = "RequestCompleted"

        request_id: str = Field(min_length=1)
        target: Address
        picker: str = Field(min_length=1)
        status: str
        prompt_tokens: int | None = Field(default=None, ge=0)
        completion_tokens: int | None = Field(default=None, ge=0)
        duration_s: float = Field(default=0.0, ge=0.0)

    current = published_schemas(BUILTIN_EVENT_TYPES)
    current["RequestCompleted"] = event_schema(RequestCompleted)
    frozen = {path.stem: load(path) for path in RELEASES[0].glob("*.json")}
    assert sorted(release_breaks(frozen, current)) == [
        "RequestCompleted.cached_tokens: field removed",
        "RequestCompleted.status: retyped from integer to string",
    ]


def test_the_current_schemas_keep_every_frozen_release() -> None:
    current = published_schemas(BUILTIN_EVENT_TYPES)
    for release in RELEASES:
        frozen = {path.stem: load(path) for path in release.glob("*.json")}
        assert release_breaks(frozen, current) == [], release.name


@pytest.mark.parametrize("bad", ["", "requestRouted", "Request.Routed", "A/B"])
def test_schema_uri_refuses_what_is_not_a_type_name(bad: str) -> None:
    with pytest.raises(ValueError, match="not an event type name"):
        schema_uri(bad)


def described_objects() -> dict[str, dict[str, Any]]:
    """Every object schema a consumer reads (event types and nested objects), by name."""
    objects: dict[str, dict[str, Any]] = {}
    for name in TYPES:
        schema = load(CURRENT / f"{name}.json")
        objects[name] = schema
        objects.update(schema.get("$defs", {}))
    return objects


def test_every_published_field_says_what_it_means() -> None:
    undescribed = [
        f"{name}.{field}"
        for name, schema in described_objects().items()
        for field, value in schema["properties"].items()
        if not value.get("description")
    ]
    assert undescribed == [], "describe them in gie/schemas/field_docs.py"


def test_every_field_description_names_a_real_field() -> None:
    objects = described_objects()
    stale = [
        f"{name}.{field}"
        for name, fields in FIELD_DOCS.items()
        for field in fields
        if field not in objects.get(name, {}).get("properties", {})
    ]
    assert stale == []
