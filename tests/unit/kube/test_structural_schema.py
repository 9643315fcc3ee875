"""The structural-schema check finds each kind of defect the API server rejects a CRD for."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.structural_schema import structural_problems


def root(**spec_fields: Any) -> dict[str, Any]:
    """A root schema whose ``spec`` object has the given property schemas."""
    spec = {"type": "object", "properties": spec_fields}
    return {"type": "object", "properties": {"metadata": {"type": "object"}, "spec": spec}}


STRING = {"type": "string"}
ITEM = {"type": "object", "required": ["name"], "properties": {"name": STRING}}
MAP_LIST = {"type": "array", "x-kubernetes-list-type": "map", "items": ITEM}


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        pytest.param({"type": "array", "items": STRING}, "<root>: type must be object", id="root"),
        pytest.param(root(a={"description": "x"}), "spec.a: type None", id="untyped"),
        pytest.param(root(a={"type": "map"}), "spec.a: type 'map'", id="unknown-type"),
        pytest.param(root(a={"type": "string", "minlength": 1}), "keyword 'minlength'", id="typo"),
        pytest.param(root(a={"type": "object", "$ref": "#/x"}), "keyword '$ref'", id="ref"),
        pytest.param(
            root(a={"type": "object", "allOf": [STRING]}), "keyword 'allOf'", id="junctor"
        ),
        pytest.param(
            root(a={"type": "object", "properties": {"b": STRING}, "additionalProperties": STRING}),
            "mutually exclusive",
            id="properties-and-additional",
        ),
        pytest.param(
            root(a={"type": "object", "additionalProperties": False}),
            "must be a schema",
            id="additional-false",
        ),
        pytest.param(root(a={"type": "array"}), "spec.a: an array needs items", id="no-items"),
        pytest.param(
            root(a={"type": "array", "items": [STRING]}), "needs items, one schema", id="tuple"
        ),
        pytest.param(
            root(a={"type": "string", "items": STRING}), "items on a non-array", id="stray-items"
        ),
        pytest.param(
            root(a={"type": "array", "items": STRING, "uniqueItems": True}),
            "uniqueItems",
            id="unique-items",
        ),
        pytest.param(
            root(a={"type": "object", "required": ["b"], "properties": {"c": STRING}}),
            "required 'b' is not a declared property",
            id="required-typo",
        ),
        pytest.param(
            root(a={"type": "integer", "minimum": 5, "maximum": 1}),
            "minimum 5 is above maximum 1",
            id="bounds",
        ),
        pytest.param(
            root(a={"type": "string", "enum": ["x", 1]}),
            "spec.a(enum): Invalid value: 1",
            id="enum-type",
        ),
        pytest.param(root(a={"type": "string", "pattern": "("}), "does not compile", id="pattern"),
        pytest.param(
            root(a={"type": "string", "enum": ["x"], "default": "y"}),
            'spec.a(default): Unsupported value: "y"',
            id="default-not-allowed",
        ),
        pytest.param(
            root(a={"type": "object", "properties": {"b": STRING}, "default": {"c": "x"}}),
            "spec.a(default).c: Unknown field",
            id="default-not-pruned",
        ),
        pytest.param(root(a=MAP_LIST), "list-map-keys goes with", id="map-without-keys"),
        pytest.param(
            root(a={**MAP_LIST, "x-kubernetes-list-map-keys": ["id"]}),
            "map key 'id' must be required",
            id="map-key-optional",
        ),
        pytest.param(
            root(a={"type": "array", "items": STRING, "x-kubernetes-list-type": "bag"}),
            "list-type 'bag'",
            id="list-type",
        ),
        pytest.param(
            root(a={"type": "string", "x-kubernetes-validations": [{"rule": "true"}]}),
            "needs a rule and a message",
            id="rule-message",
        ),
        pytest.param(
            {"type": "object", "properties": {"metadata": {"type": "object", "required": ["x"]}}},
            "metadata: may only be a plain object",
            id="metadata",
        ),
    ],
)
def test_defect_is_found(schema: dict[str, Any], problem: str) -> None:
    problems = structural_problems(schema, cel={})
    assert any(problem in found for found in problems), problems


def test_a_structural_schema_has_no_problems() -> None:
    schema = root(
        names={**MAP_LIST, "x-kubernetes-list-map-keys": ["name"], "maxItems": 4},
        labels={"type": "object", "additionalProperties": STRING, "default": {"a": "b"}},
        port={"type": "integer", "format": "int32", "minimum": 1, "default": 80},
        anything={"x-kubernetes-preserve-unknown-fields": True},
    )
    assert structural_problems(schema, cel={}) == []
