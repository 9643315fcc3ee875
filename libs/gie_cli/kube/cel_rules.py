"""CRD validation rules (``x-kubernetes-validations``): CEL expressions over ``self``.

Each rule on a schema node is evaluated with ``self`` bound to the value there (and
``oldSelf`` to the previous value on an update, for transition rules, where the old
value can be told apart: object fields, map entries, items of ``list-type: map`` lists
by their keys). A rule that is false is an error at the node's path (or the rule's
``fieldPath``) with the rule's ``message`` (or ``messageExpression``, or ``failed rule:
<rule>``) and ``reason``, as the API server reports it. A rule that errors while running
(``no such key``) fails with the error. Rules the evaluator cannot run - those calling
Kubernetes' CEL extension libraries (``lowerAscii``, ``isSorted``, ``quantity``, ...) -
are skipped.
"""

from __future__ import annotations

import functools
from typing import Any

import cel

from gie_cli.kube import field_errors as fe
from gie_cli.kube.schema_validation import json_type
from gie_cli.kube.status import FieldError

__all__ = ["NO_OLD", "validate_rules"]

Schema = dict[str, Any]
NO_OLD: Any = object()  # the value had no previous state (a create, or a new item)
_UNSUPPORTED = "Undefined variable or function"


@functools.lru_cache(maxsize=1024)
def _compiled(rule: str) -> cel.Program | None:
    try:
        return cel.compile(rule)
    except ValueError:
        return None


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _correlate(item: Any, old: Any, keys: list[str] | None) -> Any:
    if not keys or not isinstance(old, list) or not isinstance(item, dict):
        return NO_OLD
    identity = [item.get(key) for key in keys]
    for candidate in old:
        if isinstance(candidate, dict) and [candidate.get(k) for k in keys] == identity:
            return candidate
    return NO_OLD


def validate_rules(
    value: Any, schema: Schema, path: str = "", old: Any = NO_OLD
) -> list[FieldError]:
    """Every rule ``value`` breaks, below and at ``path``."""
    if value is None:
        return []
    errors: list[FieldError] = []
    for rule in schema.get("x-kubernetes-validations") or []:
        errors += _check(rule, value, schema, path, old)
    if isinstance(value, dict):
        properties: dict[str, Schema] = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            previous = old.get(key, NO_OLD) if isinstance(old, dict) else NO_OLD
            if key in properties:
                errors += validate_rules(item, properties[key], _child(path, key), previous)
            elif isinstance(extra, dict):
                errors += validate_rules(item, extra, f"{path}[{key}]", previous)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        keys = schema.get("x-kubernetes-list-map-keys")
        keys = keys if schema.get("x-kubernetes-list-type") == "map" else None
        for index, item in enumerate(value):
            previous = _correlate(item, old, keys)
            errors += validate_rules(item, schema["items"], f"{path}[{index}]", previous)
    return errors


def _check(
    rule: dict[str, Any], value: Any, schema: Schema, path: str, old: Any
) -> list[FieldError]:
    program = _compiled(str(rule.get("rule", "")))
    if program is None:
        return []
    context = {"self": value}
    if "oldSelf" in program.variables():
        if old is NO_OLD:
            return []  # a transition rule: only for updates of an existing value
        context["oldSelf"] = old
    described = rule.get("message") or f"failed rule: {rule.get('rule')}"
    try:
        result = program.execute(context)
    except RuntimeError as error:
        if _UNSUPPORTED in str(error):
            return []
        return [_runtime_error(schema, value, path, f"{error} evaluating rule: {described}")]
    except (KeyError, ValueError, TypeError, ArithmeticError) as error:
        detail = f"no such key: {error.args[0]}" if isinstance(error, KeyError) else str(error)
        return [_runtime_error(schema, value, path, f"{detail} evaluating rule: {described}")]
    if result is True:
        return []
    return [_failure(rule, schema, value, path, _message(rule, context) or described)]


def _message(rule: dict[str, Any], context: dict[str, Any]) -> str:
    expression = rule.get("messageExpression")
    if not expression:
        return ""
    program = _compiled(str(expression))
    try:
        message = program.execute(context) if program is not None else ""
    except (RuntimeError, KeyError, ValueError, TypeError, ArithmeticError):
        return ""
    return message if isinstance(message, str) else ""


def _runtime_error(schema: Schema, value: Any, path: str, message: str) -> FieldError:
    """A rule that could not run fails at its node, whatever its fieldPath and reason."""
    return fe.invalid_value(path, schema.get("type") or json_type(value), message)


def _failure(
    rule: dict[str, Any], schema: Schema, value: Any, path: str, message: str
) -> FieldError:
    field_path = str(rule.get("fieldPath") or "").lstrip(".")
    where = _child(path, field_path) if field_path else path
    reason = rule.get("reason", "FieldValueInvalid")
    if reason == "FieldValueForbidden":
        return fe.forbidden(where, message)
    if reason == "FieldValueRequired":
        return fe.required(where, message)
    type_name = schema.get("type") or json_type(value)
    if reason == "FieldValueDuplicate":
        return fe.duplicate(where, type_name)
    return fe.invalid_value(where, type_name, message)
