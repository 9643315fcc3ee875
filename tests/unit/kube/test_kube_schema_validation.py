"""A custom resource checked against its CRD's schema: pruned, defaulted, then validated,
each failure worded as the API server words it and named by its field path."""

from __future__ import annotations

from typing import Any

import pytest

from gie_cli.kube.schema_defaults import apply_defaults, prune
from gie_cli.kube.schema_validation import validate_schema

PORTS = {
    "type": "array",
    "minItems": 1,
    "maxItems": 2,
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["number"],
    "items": {
        "type": "object",
        "required": ["number"],
        "properties": {"number": {"type": "integer", "minimum": 1, "maximum": 65535}},
    },
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["ports"],
            "properties": {
                "ports": PORTS,
                "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
                "name": {"type": "string", "minLength": 1, "maxLength": 5, "pattern": "^[a-z]+$"},
                "ratio": {
                    "type": "number",
                    "exclusiveMinimum": True,
                    "minimum": 0,
                    "multipleOf": 0.5,
                },
                "size": {"x-kubernetes-int-or-string": True},
                "labels": {
                    "type": "object",
                    "maxProperties": 1,
                    "additionalProperties": {"type": "string"},
                },
                "tags": {
                    "type": "array",
                    "x-kubernetes-list-type": "set",
                    "items": {"type": "string"},
                },
                "ref": {
                    "type": "object",
                    "default": {},
                    "properties": {"kind": {"type": "string", "default": "Service"}},
                },
                "maybe": {"type": "string", "nullable": True},
            },
        }
    },
}


def _errors(spec: dict[str, Any]) -> list[str]:
    return [str(error) for error in validate_schema({"spec": spec}, SCHEMA)]


def _in_body(field: str, value: str, detail: str) -> str:
    """The server's wording of a failed check: the field, its value, then the rule."""
    return f"{field}: Invalid value: {value}: {field} in body {detail}"


_PORT = {"ports": [{"number": 80}]}


@pytest.mark.parametrize(
    ("spec", "errors"),
    [
        (_PORT, []),
        ({}, ["spec.ports: Required value"]),
        ({"ports": []}, [_in_body("spec.ports", "0", "should have at least 1 items")]),
        (
            {"ports": [{"number": 1}, {"number": 2}, {"number": 3}]},
            ["spec.ports: Too many: 3: must have at most 2 items"],
        ),
        (
            {"ports": [{"number": 0}]},
            [_in_body("spec.ports[0].number", "0", "should be greater than or equal to 1")],
        ),
        (
            {"ports": [{"number": 70000}]},
            [_in_body("spec.ports[0].number", "70000", "should be less than or equal to 65535")],
        ),
        (
            {"ports": [{"number": "80"}]},
            [_in_body("spec.ports[0].number", '"string"', 'must be of type integer: "string"')],
        ),
        (
            {"ports": [{"number": 80}, {"number": 80}]},
            ['spec.ports[1]: Duplicate value: {"number":80}'],
        ),
        ({**_PORT, "mode": "c"}, ['spec.mode: Unsupported value: "c": supported values: "a", "b"']),
        ({**_PORT, "name": "toolong"}, ["spec.name: Too long: may not be more than 5 bytes"]),
        ({**_PORT, "name": "ABC"}, [_in_body("spec.name", '"ABC"', "should match '^[a-z]+$'")]),
        ({**_PORT, "ratio": 0}, [_in_body("spec.ratio", "0", "should be greater than 0")]),
        ({**_PORT, "ratio": 0.7}, [_in_body("spec.ratio", "0.7", "should be a multiple of 0.5")]),
        ({**_PORT, "size": "1Gi"}, []),
        (
            {**_PORT, "size": True},
            [_in_body("spec.size", '"boolean"', 'must be of type integer,string: "boolean"')],
        ),
        (
            {**_PORT, "labels": {"a": "1", "b": "2"}},
            ["spec.labels: Too many: 2: must have at most 1 items"],
        ),
        ({**_PORT, "tags": ["x", "x"]}, ['spec.tags[1]: Duplicate value: "x"']),
        ({**_PORT, "maybe": None}, []),
    ],
    ids=[
        "valid", "required", "min-items", "max-items", "minimum", "maximum", "type",
        "list-map-duplicate", "enum", "max-length", "pattern", "exclusive-minimum",
        "multiple-of", "int-or-string", "int-or-string-type", "max-properties",
        "list-set-duplicate", "nullable",
    ],
)  # fmt: skip
def test_validation_names_each_field_as_the_server_does(
    spec: dict[str, Any], errors: list[str]
) -> None:
    assert _errors(spec) == errors


def test_defaults_fill_absent_fields_top_down_and_replace_non_nullable_nulls() -> None:
    obj: dict[str, Any] = {"spec": {"ports": [{"number": 80}], "mode": None}}
    apply_defaults(obj, SCHEMA)
    assert obj["spec"]["mode"] == "a"
    assert obj["spec"]["ref"] == {"kind": "Service"}


def test_pruning_drops_unknown_fields_and_reports_their_paths() -> None:
    obj: dict[str, Any] = {
        "apiVersion": "x/v1",
        "kind": "X",
        "metadata": {"name": "n", "bogus": 1},
        "spec": {"ports": [{"number": 80, "extra": 1}], "typo": True},
        "status": {},
    }
    dropped = prune(obj, SCHEMA)
    assert sorted(dropped) == ["metadata.bogus", "spec.ports[0].extra", "spec.typo", "status"]
    assert obj == {
        "apiVersion": "x/v1",
        "kind": "X",
        "metadata": {"name": "n"},
        "spec": {"ports": [{"number": 80}]},
    }
