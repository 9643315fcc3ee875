"""Check that a CRD version's ``openAPIV3Schema`` is structural, as apiextensions/v1 demands.

The rules, as the API server applies them to a CRD (plus a few that catch typos):

* every node has a ``type`` (unless it says ``x-kubernetes-int-or-string`` or
  ``x-kubernetes-preserve-unknown-fields``), one of the OpenAPI types;
* only known keywords; ``$ref``, ``definitions``, ``patternProperties``,
  ``dependencies``, ``additionalItems``, ``id`` and ``$schema`` are rejected, and so are the
  logical junctors (``allOf``, ``anyOf``, ``oneOf``, ``not``), which these CRDs do not use
  and this check does not look into;
* ``properties`` and ``additionalProperties`` never together, ``additionalProperties``
  a schema (not ``true``/``false``), both only on objects; ``items`` one schema, required
  on arrays and only there; ``uniqueItems`` never true;
* the root is an object whose ``metadata``, if declared, is a plain object;
* ``required`` names declared properties; bounds are ordered; ``enum`` values have the
  node's type; ``pattern`` compiles; every ``default`` validates against its node;
* list types are ``atomic``, ``set`` or ``map``; a map names its keys, which are required
  (or defaulted) properties of its items; every ``x-kubernetes-validations`` entry has a
  ``rule`` and a ``message``.
"""

from __future__ import annotations

import re
from typing import Any

from tests.support.schema_validator import CelRules, Schema, validate

TYPES = {"object", "array", "string", "integer", "number", "boolean"}
KEYWORDS = {
    "description", "type", "format", "title", "default", "example", "externalDocs",
    "nullable", "enum", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
    "multipleOf", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
    "maxProperties", "minProperties", "required", "items", "properties",
    "additionalProperties", "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string",
    "x-kubernetes-list-map-keys", "x-kubernetes-list-type", "x-kubernetes-map-type",
    "x-kubernetes-validations",
}  # fmt: skip
BOUNDS = [("minimum", "maximum"), ("minLength", "maxLength"), ("minItems", "maxItems")]
BOUNDS.append(("minProperties", "maxProperties"))
_CEL = "x-kubernetes-validations"
RULE_KEYS = {"rule", "message", "messageExpression", "reason", "fieldPath", "optionalOldSelf"}


def structural_problems(schema: Schema, *, cel: CelRules) -> list[str]:
    """Every way ``schema`` (a version's ``openAPIV3Schema``) is not structural."""
    out: list[str] = []
    if schema.get("type") != "object":
        out.append("<root>: type must be object")
    metadata = schema.get("properties", {}).get("metadata")
    if metadata is not None and set(metadata) - {"type", "description"}:
        out.append("metadata: may only be a plain object")
    _node(schema, "<root>", cel, out)
    return out


def _node(schema: Schema, path: str, cel: CelRules, out: list[str]) -> None:
    for key in sorted(set(schema) - KEYWORDS):
        out.append(f"{path}: keyword {key!r} is not allowed")
    kind = schema.get("type")
    untyped = schema.get("x-kubernetes-int-or-string") or schema.get(
        "x-kubernetes-preserve-unknown-fields"
    )
    if kind not in TYPES and not (kind is None and untyped):
        out.append(f"{path}: type {kind!r} is not one of {sorted(TYPES)}")
    if not isinstance(schema.get("description", ""), str):
        out.append(f"{path}: description must be a string")
    _object_keywords(schema, path, cel, out)
    _array_keywords(schema, path, cel, out)
    _value_keywords(schema, path, cel, out)


def _object_keywords(schema: Schema, path: str, cel: CelRules, out: list[str]) -> None:
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    if (properties is not None or extra is not None) and schema.get("type") != "object":
        out.append(f"{path}: properties/additionalProperties on a non-object")
    if properties is not None and extra is not None:
        out.append(f"{path}: properties and additionalProperties are mutually exclusive")
    if extra is not None and not isinstance(extra, dict):
        out.append(f"{path}: additionalProperties must be a schema, not {extra!r}")
    for name in schema.get("required", []):
        if name not in (properties or {}):
            out.append(f"{path}: required {name!r} is not a declared property")
    for name, child in (properties or {}).items():
        _node(child, name if path == "<root>" else f"{path}.{name}", cel, out)
    if isinstance(extra, dict):
        _node(extra, f"{path}.*", cel, out)


def _array_keywords(schema: Schema, path: str, cel: CelRules, out: list[str]) -> None:
    items = schema.get("items")
    if schema.get("type") == "array" and not isinstance(items, dict):
        out.append(f"{path}: an array needs items, one schema")
    if items is not None and schema.get("type") != "array":
        out.append(f"{path}: items on a non-array")
    if schema.get("uniqueItems"):
        out.append(f"{path}: uniqueItems cannot be true")
    if isinstance(items, dict):
        _node(items, f"{path}[*]", cel, out)
    list_type = schema.get("x-kubernetes-list-type")
    keys = schema.get("x-kubernetes-list-map-keys")
    if list_type not in (None, "atomic", "set", "map"):
        out.append(f"{path}: x-kubernetes-list-type {list_type!r} is unknown")
    if (list_type == "map") != (keys is not None):
        out.append(f"{path}: x-kubernetes-list-map-keys goes with x-kubernetes-list-type map")
    if list_type == "map" and isinstance(items, dict) and keys:
        item_fields = items.get("properties", {})
        for key in keys:
            field = item_fields.get(key, {})
            if key not in items.get("required", []) and "default" not in field:
                out.append(f"{path}: map key {key!r} must be required or defaulted in items")


def _value_keywords(schema: Schema, path: str, cel: CelRules, out: list[str]) -> None:
    for low, high in BOUNDS:
        if low in schema and high in schema and schema[low] > schema[high]:
            out.append(f"{path}: {low} {schema[low]} is above {high} {schema[high]}")
    plain = {k: v for k, v in schema.items() if k not in ("enum", "default", _CEL)}
    for value in schema.get("enum", []):
        out.extend(validate(value, plain, cel={}, at=f"{path}(enum)"))
    if "pattern" in schema:
        try:
            re.compile(schema["pattern"])
        except re.error as exc:
            out.append(f"{path}: pattern does not compile: {exc}")
    if "default" in schema:
        out.extend(validate(schema["default"], schema, cel=cel, at=f"{path}(default)"))
    for entry in schema.get(_CEL, []):
        _rule(entry, path, out)


def _rule(entry: Any, path: str, out: list[str]) -> None:
    if not isinstance(entry, dict) or set(entry) - RULE_KEYS:
        out.append(f"{path}: x-kubernetes-validations entry {entry!r} has unknown keys")
    elif not isinstance(entry.get("rule"), str) or not isinstance(entry.get("message"), str):
        out.append(f"{path}: x-kubernetes-validations entry needs a rule and a message")
