"""The compatibility gate on small schema pairs: every kind of breaking change is
named, and compatible changes pass."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from gie.schemas import breaking_changes, release_breaks

Schema = dict[str, Any]


def base() -> Schema:
    """A frozen schema shaped like the generated ones."""
    return {
        "$id": "https://gie.dev/schemas/gie/v1/Thing.json",
        "title": "Thing",
        "type": "object",
        "properties": {
            "type": {"type": "string", "const": "Thing"},
            "name": {"type": "string", "minLength": 1, "maxLength": 64},
            "count": {"type": "integer", "minimum": 0, "maximum": 100},
            "ratio": {"type": "number", "exclusiveMinimum": 0},
            "reason": {"type": "string", "enum": ["ttl", "cancelled"]},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "capacity": {"anyOf": [{"type": "integer", "exclusiveMinimum": 0}, {"type": "null"}]},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 8},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "at": {"type": "string", "format": "date-time"},
            "inner": {"$ref": "#/$defs/Inner"},
        },
        "required": ["type", "name", "count", "inner"],
        "$defs": {
            "Inner": {
                "type": "object",
                "properties": {"address": {"type": "string"}, "weight": {"type": "integer"}},
                "required": ["address"],
            }
        },
    }


def changed(change: Callable[[Schema], object]) -> Schema:
    schema = copy.deepcopy(base())
    change(schema)
    return schema


def props(schema: Schema) -> dict[str, Any]:
    return schema["properties"]  # type: ignore[no-any-return]


BREAKING: list[tuple[str, Callable[[Schema], object], str]] = [
    ("field-removed", lambda s: props(s).pop("count"), "Thing.count: field removed"),
    (
        "field-retyped",
        lambda s: props(s).update(count={"type": "string"}),
        "Thing.count: retyped from integer to string",
    ),
    (
        "integer-to-number",
        lambda s: props(s)["count"].update(type="number"),
        "Thing.count: retyped from integer to number",
    ),
    (
        "made-nullable",
        lambda s: props(s).update(count={"anyOf": [{"type": "integer"}, {"type": "null"}]}),
        "Thing.count: retyped from integer to null or integer",
    ),
    (
        "null-dropped",
        lambda s: props(s).update(note={"type": "string"}),
        "Thing.note: retyped from null or string to string",
    ),
    (
        "optional-made-required",
        lambda s: s["required"].append("ratio"),
        "Thing.ratio: optional field made required",
    ),
    (
        "required-made-optional",
        lambda s: s["required"].remove("name"),
        "Thing.name: required field made optional",
    ),
    (
        "new-required-field",
        lambda s: (props(s).update(extra={"type": "string"}), s["required"].append("extra")),
        "Thing.extra: new required field",
    ),
    (
        "enum-narrowed",
        lambda s: props(s)["reason"].update(enum=["ttl"]),
        "Thing.reason: enum narrowed: 'cancelled' no longer allowed",
    ),
    (
        "enum-added-to-free-field",
        lambda s: props(s)["name"].update(enum=["a", "b"]),
        "Thing.name: values restricted to 'a', 'b'",
    ),
    (
        "const-changed",
        lambda s: props(s)["type"].update(const="Other"),
        "Thing.type: enum narrowed: 'Thing' no longer allowed",
    ),
    (
        "minimum-raised",
        lambda s: props(s)["count"].update(minimum=1),
        "Thing.count: minimum raised from 0 to 1",
    ),
    (
        "minimum-made-exclusive",
        lambda s: (props(s)["count"].pop("minimum"), props(s)["count"].update(exclusiveMinimum=0)),
        "Thing.count: minimum raised from 0 to 0 (exclusive)",
    ),
    (
        "minimum-added",
        lambda s: props(s)["ratio"].update(minimum=0.5),
        "Thing.ratio: minimum raised from 0 (exclusive) to 0.5",
    ),
    (
        "nullable-minimum-raised",
        lambda s: props(s)["capacity"]["anyOf"][0].update(exclusiveMinimum=8),
        "Thing.capacity: minimum raised from 0 (exclusive) to 8 (exclusive)",
    ),
    (
        "maximum-lowered",
        lambda s: props(s)["count"].update(maximum=99),
        "Thing.count: maximum lowered from 100 to 99",
    ),
    (
        "maxlength-lowered",
        lambda s: props(s)["name"].update(maxLength=32),
        "Thing.name: maxLength lowered from 64 to 32",
    ),
    (
        "minlength-raised",
        lambda s: props(s)["name"].update(minLength=2),
        "Thing.name: minLength raised from 1 to 2",
    ),
    (
        "maxitems-lowered",
        lambda s: props(s)["tags"].update(maxItems=4),
        "Thing.tags: maxItems lowered from 8 to 4",
    ),
    (
        "minitems-added",
        lambda s: props(s)["tags"].update(minItems=1),
        "Thing.tags: minItems raised from 0 to 1",
    ),
    (
        "pattern-added",
        lambda s: props(s)["name"].update(pattern="^[a-z]+$"),
        "Thing.name: pattern changed from none to '^[a-z]+$'",
    ),
    (
        "format-changed",
        lambda s: props(s)["at"].update(format="date"),
        "Thing.at: format changed from 'date-time' to 'date'",
    ),
    (
        "items-retyped",
        lambda s: props(s)["tags"].update(items={"type": "integer"}),
        "Thing.tags[]: retyped from string to integer",
    ),
    (
        "map-values-retyped",
        lambda s: props(s)["labels"].update(additionalProperties={"type": "integer"}),
        "Thing.labels.*: retyped from string to integer",
    ),
    (
        "added-fields-forbidden",
        lambda s: s.update(additionalProperties=False),
        "Thing: added fields are now forbidden",
    ),
    (
        "nested-field-removed",
        lambda s: s["$defs"]["Inner"]["properties"].pop("weight"),
        "Thing.inner.weight: field removed",
    ),
    (
        "nested-optional-made-required",
        lambda s: s["$defs"]["Inner"]["required"].append("weight"),
        "Thing.inner.weight: optional field made required",
    ),
]


@pytest.mark.parametrize(
    ("change", "problem"), [(c, p) for _, c, p in BREAKING], ids=[i for i, _, _ in BREAKING]
)
def test_a_breaking_change_is_named(change: Callable[[Schema], object], problem: str) -> None:
    problems = breaking_changes(base(), changed(change))
    assert any(found.startswith(problem) for found in problems), problems


COMPATIBLE: list[tuple[str, Callable[[Schema], object]]] = [
    ("unchanged", lambda s: None),
    ("optional-field-added", lambda s: props(s).update(target_model={"type": "string"})),
    (
        "nullable-optional-field-added",
        lambda s: props(s).update(seq={"anyOf": [{"type": "integer"}, {"type": "null"}]}),
    ),
    ("enum-widened", lambda s: props(s)["reason"].update(enum=["ttl", "cancelled", "displaced"])),
    ("minimum-lowered", lambda s: props(s)["count"].update(minimum=-1)),
    (
        "nullable-minimum-lowered",
        lambda s: props(s)["capacity"]["anyOf"][0].pop("exclusiveMinimum"),
    ),
    ("maximum-removed", lambda s: props(s)["count"].pop("maximum")),
    (
        "exclusive-made-inclusive",
        lambda s: (props(s)["ratio"].pop("exclusiveMinimum"), props(s)["ratio"].update(minimum=0)),
    ),
    ("maxlength-raised", lambda s: props(s)["name"].update(maxLength=128)),
    ("minlength-removed", lambda s: props(s)["name"].pop("minLength")),
    ("maxitems-removed", lambda s: props(s)["tags"].pop("maxItems")),
    ("format-removed", lambda s: props(s)["at"].pop("format")),
    ("description-and-default", lambda s: props(s)["note"].update(description="x", default="")),
    ("nested-optional-field-added", lambda s: s["$defs"]["Inner"]["properties"].update(z={})),
    ("title-changed", lambda s: s.update(title="Renamed", description="words")),
]


@pytest.mark.parametrize("change", [c for _, c in COMPATIBLE], ids=[i for i, _ in COMPATIBLE])
def test_a_compatible_change_passes(change: Callable[[Schema], object]) -> None:
    assert breaking_changes(base(), changed(change)) == []


def test_a_removed_type_breaks_the_release() -> None:
    frozen = {"Thing": base(), "Other": {**base(), "$id": "o"}}
    assert release_breaks(frozen, {"Thing": base()}) == [
        "Other: schema removed (its type is no longer published)"
    ]


def test_a_moved_id_breaks_the_release() -> None:
    moved = {**base(), "$id": "https://gie.dev/schemas/gie/v1/Moved.json"}
    (problem,) = release_breaks({"Thing": base()}, {"Thing": moved})
    assert problem.startswith("Thing: $id changed")


def test_an_added_type_passes() -> None:
    assert release_breaks({"Thing": base()}, {"Thing": base(), "New": {"type": "object"}}) == []


def test_a_changed_reference_to_another_file_breaks() -> None:
    old = {"type": "array", "items": {"$ref": "Envelope.json"}}
    new = {"type": "array", "items": {"$ref": "Other.json"}}
    assert breaking_changes(old, new, name="Batch") == [
        "Batch[]: reference changed from Envelope.json to Other.json"
    ]
