"""Validation of a custom resource against its CRD's ``openAPIV3Schema``.

Checks what the API server's structural-schema validator checks: ``type`` (with
``nullable`` and ``x-kubernetes-int-or-string``), ``required``, ``enum``, ``minimum`` /
``maximum`` (and their exclusive forms), ``multipleOf``, ``minLength`` / ``maxLength``,
``pattern``, ``minItems`` / ``maxItems``, ``uniqueItems``, ``minProperties`` /
``maxProperties``, ``x-kubernetes-list-type`` (``set``, ``map`` with its keys) and
``allOf`` / ``anyOf`` / ``oneOf`` / ``not``. CEL rules (``x-kubernetes-validations``) and
``format`` are not evaluated. Each failure is a field error naming the field path
(``spec.targetPorts[0].number``), worded as the server words it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gie_cli.kube import field_errors as fe
from gie_cli.kube.status import FieldError

__all__ = ["json_type", "validate_schema"]

Schema = dict[str, Any]


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value (``integer`` for whole numbers)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _type_matches(value: Any, schema: Schema) -> bool:
    actual = json_type(value)
    if schema.get("x-kubernetes-int-or-string"):
        return actual in ("integer", "string")
    wanted = schema.get("type")
    if wanted is None or wanted == actual:
        return True
    return wanted == "number" and actual == "integer"


def _wanted_type(schema: Schema) -> str:
    if schema.get("x-kubernetes-int-or-string"):
        return "integer,string"
    return str(schema.get("type"))


def validate_schema(value: Any, schema: Schema, path: str = "") -> list[FieldError]:
    """Every way ``value`` (at ``path``) fails ``schema``; [] when it is valid."""
    where = path or "."
    if value is None:
        if schema.get("nullable") or (
            "type" not in schema and not schema.get("x-kubernetes-int-or-string")
        ):
            return []
        return [
            fe.type_invalid(
                path, "null", f'{where} in body must be of type {_wanted_type(schema)}: "null"'
            )
        ]
    if not _type_matches(value, schema):
        actual = json_type(value)
        detail = f'{where} in body must be of type {_wanted_type(schema)}: "{actual}"'
        return [fe.type_invalid(path, actual, detail)]
    errors: list[FieldError] = []
    errors += _enum(value, schema, path)
    if isinstance(value, dict):
        errors += _object(value, schema, path)
    elif isinstance(value, list):
        errors += _array(value, schema, path)
    elif isinstance(value, str):
        errors += _string(value, schema, path)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        errors += _number(value, schema, path)
    errors += _combinators(value, schema, path)
    return errors


def _enum(value: Any, schema: Schema, path: str) -> list[FieldError]:
    allowed = schema.get("enum")
    if allowed is None or value in allowed:
        return []
    names = [a if isinstance(a, str) else json.dumps(a) for a in allowed]
    return [fe.not_supported(path, value, names)]


def _object(value: dict[str, Any], schema: Schema, path: str) -> list[FieldError]:
    where = path or "."
    errors = [
        fe.required(_child(path, name)) for name in schema.get("required", []) if name not in value
    ]
    properties: dict[str, Schema] = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        if key in properties:
            errors += validate_schema(item, properties[key], _child(path, key))
        elif isinstance(extra, dict):
            errors += validate_schema(item, extra, f"{path}[{key}]")
    if "minProperties" in schema and len(value) < schema["minProperties"]:
        detail = f"{where} in body should have at least {schema['minProperties']} properties"
        errors.append(fe.invalid_value(path, len(value), detail))
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        errors.append(fe.too_many(path, len(value), schema["maxProperties"]))
    return errors


def _array(value: list[Any], schema: Schema, path: str) -> list[FieldError]:
    where = path or "."
    errors: list[FieldError] = []
    if "minItems" in schema and len(value) < schema["minItems"]:
        detail = f"{where} in body should have at least {schema['minItems']} items"
        errors.append(fe.invalid_value(path, len(value), detail))
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(fe.too_many(path, len(value), schema["maxItems"]))
    if schema.get("uniqueItems") and _has_duplicates(value):
        errors.append(fe.invalid_value(path, "", f"{where} in body shouldn't contain duplicates"))
    items = schema.get("items")
    if isinstance(items, dict):
        for index, item in enumerate(value):
            errors += validate_schema(item, items, f"{path}[{index}]")
    errors += _list_type(value, schema, path)
    return errors


def _has_duplicates(values: list[Any]) -> bool:
    seen = [json.dumps(v, sort_keys=True) for v in values]
    return len(seen) != len(set(seen))


def _list_type(value: list[Any], schema: Schema, path: str) -> list[FieldError]:
    list_type = schema.get("x-kubernetes-list-type")
    seen: set[str] = set()
    errors: list[FieldError] = []
    for index, item in enumerate(value):
        if list_type == "set":
            identity: Any = item
        elif list_type == "map" and isinstance(item, dict):
            keys = schema.get("x-kubernetes-list-map-keys") or []
            identity = {key: item.get(key) for key in keys}
        else:
            return []
        marker = json.dumps(identity, sort_keys=True)
        if marker in seen:
            errors.append(fe.duplicate(f"{path}[{index}]", identity))
        seen.add(marker)
    return errors


def _string(value: str, schema: Schema, path: str) -> list[FieldError]:
    where = path or "."
    errors: list[FieldError] = []
    if "minLength" in schema and len(value) < schema["minLength"]:
        detail = f"{where} in body should be at least {schema['minLength']} chars long"
        errors.append(fe.invalid_value(path, value, detail))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errors.append(fe.too_long(path, schema["maxLength"]))
    pattern = schema.get("pattern")
    if pattern is not None and re.search(pattern, value) is None:
        errors.append(fe.invalid_value(path, value, f"{where} in body should match '{pattern}'"))
    return errors


def _number(value: float, schema: Schema, path: str) -> list[FieldError]:
    where = path or "."
    errors: list[FieldError] = []
    if "minimum" in schema:
        low, exclusive = schema["minimum"], schema.get("exclusiveMinimum", False)
        if value < low or (exclusive and value == low):
            bound = "greater than" if exclusive else "greater than or equal to"
            errors.append(fe.invalid_value(path, value, f"{where} in body should be {bound} {low}"))
    if "maximum" in schema:
        high, exclusive = schema["maximum"], schema.get("exclusiveMaximum", False)
        if value > high or (exclusive and value == high):
            bound = "less than" if exclusive else "less than or equal to"
            errors.append(
                fe.invalid_value(path, value, f"{where} in body should be {bound} {high}")
            )
    step = schema.get("multipleOf")
    if step and (value / step) != int(value / step):
        errors.append(
            fe.invalid_value(path, value, f"{where} in body should be a multiple of {step}")
        )
    return errors


def _combinators(value: Any, schema: Schema, path: str) -> list[FieldError]:
    where = path or "."
    errors: list[FieldError] = []
    for sub in schema.get("allOf") or []:
        errors += validate_schema(value, sub, path)
    if schema.get("anyOf") and not any(
        not validate_schema(value, sub, path) for sub in schema["anyOf"]
    ):
        detail = f"{where} in body must validate at least one schema (anyOf)"
        errors.append(fe.invalid_value(path, value, detail))
    if schema.get("oneOf"):
        passing = sum(1 for sub in schema["oneOf"] if not validate_schema(value, sub, path))
        if passing != 1:
            detail = f"{where} in body must validate one and only one schema (oneOf)"
            errors.append(fe.invalid_value(path, value, detail))
    if isinstance(schema.get("not"), dict) and not validate_schema(value, schema["not"], path):
        errors.append(
            fe.invalid_value(path, value, f"{where} in body must not validate the schema (not)")
        )
    return errors
