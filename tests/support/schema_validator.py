"""Validate an object against a CRD version's ``openAPIV3Schema``, as an API server would.

The subset of OpenAPI v3 that the project's CRDs use: ``type`` (with ``format`` int32,
int64 and date-time), ``enum``, ``minimum``/``maximum``, ``minLength``/``maxLength``,
``pattern``, ``minItems``/``maxItems``, ``minProperties``/``maxProperties``,
``required``, ``properties``, ``additionalProperties``, ``items``, the list types
``map`` (unique keys) and ``set``, and ``x-kubernetes-validations``, whose CEL rules are
evaluated by Python predicates the caller supplies, keyed by the rule's text (an unknown
rule is an error of the caller, raised as ``KeyError``).

Fields that the schema does not declare are errors (``Unknown field``), as with the
strict field validation kubectl asks for by default. A ``null`` where the schema wants
a value is an error too (an API server would drop it instead). The root's ``metadata``
is not looked into: the API server validates object metadata itself.

``validate`` returns one message per problem, each starting with the field's path
(``spec.targetPorts[0].number``) in the style of the API server's messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

Schema = Mapping[str, Any]
CelRules = Mapping[str, Callable[[Any], bool]]

_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def validate(value: Any, schema: Schema, *, cel: CelRules, at: str = "") -> list[str]:
    """Every problem of ``value`` against ``schema``: a whole object against a CRD's root
    schema, or with ``at`` (the path shown for ``value``) a value against any node."""
    problems: list[str] = []
    _check(value, schema, at, cel, problems, root=not at)
    return problems


def _check(
    value: Any, schema: Schema, path: str, cel: CelRules, out: list[str], *, root: bool = False
) -> None:
    if not _has_type(value, schema.get("type")):
        out.append(f"{path}: Invalid value: {_show(value)}: must be of type {schema.get('type')}")
        return
    if "enum" in schema and value not in schema["enum"]:
        supported = ", ".join(_show(v) for v in schema["enum"])
        out.append(f"{path}: Unsupported value: {_show(value)}: supported values: {supported}")
    if isinstance(value, dict):
        _check_object(value, schema, path, cel, out, root=root)
    elif isinstance(value, list):
        _check_array(value, schema, path, cel, out)
    elif isinstance(value, str):
        _check_string(value, schema, path, out)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _check_number(value, schema, path, out)
    for entry in schema.get("x-kubernetes-validations", []):
        if not cel[entry["rule"]](value):
            out.append(f"{path}: Invalid value: {entry['message']}")


def _has_type(value: Any, kind: str | None) -> bool:
    if kind is None:
        return value is not None
    if isinstance(value, bool) and kind != "boolean":
        return False
    return isinstance(value, _PYTHON_TYPES[kind])


def _check_object(
    value: dict[str, Any], schema: Schema, path: str, cel: CelRules, out: list[str], *, root: bool
) -> None:
    properties: Mapping[str, Schema] = schema.get("properties", {})
    extra: Schema | None = schema.get("additionalProperties")
    for name in schema.get("required", []):
        if name not in value:
            out.append(f"{_join(path, name)}: Required value")
    _bounds(len(value), schema, ("minProperties", "maxProperties"), path, out, unit="properties")
    for name, item in value.items():
        field = _join(path, name)
        if root and name == "metadata":
            continue
        if name in properties:
            _check(item, properties[name], field, cel, out)
        elif extra is not None:
            _check(item, extra, field, cel, out)
        elif not schema.get("x-kubernetes-preserve-unknown-fields"):
            out.append(f"{field}: Unknown field")


def _check_array(
    value: list[Any], schema: Schema, path: str, cel: CelRules, out: list[str]
) -> None:
    _bounds(len(value), schema, ("minItems", "maxItems"), path, out, unit="items")
    for index, item in enumerate(value):
        _check(item, schema["items"], f"{path}[{index}]", cel, out)
    list_type = schema.get("x-kubernetes-list-type")
    if list_type == "map":
        keys = schema["x-kubernetes-list-map-keys"]
        seen: set[tuple[Any, ...]] = set()
        for index, item in enumerate(value):
            key = tuple(item.get(k) for k in keys) if isinstance(item, dict) else (item,)
            if key in seen:
                out.append(
                    f"{path}[{index}]: Duplicate value: {_show(dict(zip(keys, key, strict=True)))}"
                )
            seen.add(key)
    elif list_type == "set":
        for index, item in enumerate(value):
            if item in value[:index]:
                out.append(f"{path}[{index}]: Duplicate value: {_show(item)}")


def _check_string(value: str, schema: Schema, path: str, out: list[str]) -> None:
    _bounds(len(value), schema, ("minLength", "maxLength"), path, out, unit="characters")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        out.append(f"{path}: Invalid value: {_show(value)}: should match '{schema['pattern']}'")
    if schema.get("format") == "date-time" and not _is_date_time(value):
        out.append(f"{path}: Invalid value: {_show(value)}: must be an RFC 3339 date-time")


def _is_date_time(value: str) -> bool:
    if not _DATE_TIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper())
    except ValueError:
        return False
    return True


def _check_number(value: float, schema: Schema, path: str, out: list[str]) -> None:
    low, high = _INT_RANGES.get(schema.get("format", ""), (None, None))
    if low is not None and high is not None and not low <= value <= high:
        out.append(f"{path}: Invalid value: {value}: out of range for {schema['format']}")
    if "minimum" in schema and value < schema["minimum"]:
        out.append(
            f"{path}: Invalid value: {value}: should be greater than or equal to "
            f"{schema['minimum']}"
        )
    if "maximum" in schema and value > schema["maximum"]:
        out.append(
            f"{path}: Invalid value: {value}: should be less than or equal to {schema['maximum']}"
        )


def _bounds(
    size: int, schema: Schema, keys: tuple[str, str], path: str, out: list[str], *, unit: str
) -> None:
    low_key, high_key = keys
    if low_key in schema and size < schema[low_key]:
        out.append(f"{path}: Invalid value: {size}: should have at least {schema[low_key]} {unit}")
    if high_key in schema and size > schema[high_key]:
        out.append(f"{path}: Too many: {size}: must have at most {schema[high_key]} {unit}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _show(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)
