"""Field errors worded as the API server's ``field.Error`` words them.

Each constructor returns a :class:`~gie_cli.kube.status.FieldError` whose message is
what kubectl prints after the field path, e.g. ``Invalid value: 0: spec.x in body should
be greater than or equal to 1`` or ``Unsupported value: "h3": supported values: "http"``.
"""

from __future__ import annotations

import json
from typing import Any

from gie_cli.kube.status import FieldError

__all__ = [
    "duplicate",
    "forbidden",
    "format_value",
    "invalid_value",
    "not_supported",
    "required",
    "too_long",
    "too_many",
    "type_invalid",
]


def format_value(value: Any) -> str:
    """A value as Go's field errors print it: strings quoted, null, numbers, JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def required(field: str, detail: str = "") -> FieldError:
    message = "Required value" + (f": {detail}" if detail else "")
    return FieldError(field, "FieldValueRequired", message)


def forbidden(field: str, detail: str) -> FieldError:
    return FieldError(field, "FieldValueForbidden", f"Forbidden: {detail}")


def invalid_value(field: str, value: Any, detail: str) -> FieldError:
    message = f"Invalid value: {format_value(value)}"
    if detail:
        message += f": {detail}"
    return FieldError(field, "FieldValueInvalid", message)


def type_invalid(field: str, type_name: str, detail: str) -> FieldError:
    """A value of the wrong type; the server shows the type's name as the value."""
    return FieldError(
        field, "FieldValueTypeInvalid", f"Invalid value: {format_value(type_name)}: {detail}"
    )


def not_supported(field: str, value: Any, allowed: list[Any]) -> FieldError:
    supported = ", ".join(format_value(item) for item in allowed)
    return FieldError(
        field,
        "FieldValueNotSupported",
        f"Unsupported value: {format_value(value)}: supported values: {supported}",
    )


def duplicate(field: str, value: Any) -> FieldError:
    return FieldError(field, "FieldValueDuplicate", f"Duplicate value: {format_value(value)}")


def too_long(field: str, limit: int) -> FieldError:
    return FieldError(field, "FieldValueTooLong", f"Too long: may not be more than {limit} bytes")


def too_many(field: str, actual: int, limit: int) -> FieldError:
    return FieldError(
        field, "FieldValueTooMany", f"Too many: {actual}: must have at most {limit} items"
    )
