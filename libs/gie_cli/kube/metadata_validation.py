"""Validation of ``metadata`` shared by every kind: names, labels, annotations."""

from __future__ import annotations

import re
from typing import Any

from gie_cli.kube import field_errors as fe
from gie_cli.kube.status import FieldError

__all__ = ["validate_dns_label", "validate_dns_subdomain", "validate_object_meta"]

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = rf"{_LABEL}(\.{_LABEL})*"
_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character (e.g. "
    "'example.com', regex used for validation is "
    r"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
    "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
    "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
_NAME_PART = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_NAME_PART_MESSAGE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
    "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
_VALUE_MESSAGE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', "
    "'_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  "
    "or 'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def validate_dns_subdomain(value: str, field: str) -> list[FieldError]:
    errors = []
    if len(value) > 253:
        errors.append(fe.invalid_value(field, value, "must be no more than 253 characters"))
    if not re.fullmatch(_SUBDOMAIN, value):
        errors.append(fe.invalid_value(field, value, _SUBDOMAIN_MESSAGE))
    return errors


def validate_dns_label(value: str, field: str) -> list[FieldError]:
    errors = []
    if len(value) > 63:
        errors.append(fe.invalid_value(field, value, "must be no more than 63 characters"))
    if not re.fullmatch(_LABEL, value):
        errors.append(fe.invalid_value(field, value, _LABEL_MESSAGE))
    return errors


def _qualified_name(key: str, field: str) -> list[FieldError]:
    prefix, _, name = key.rpartition("/")
    errors = []
    if prefix and not re.fullmatch(_SUBDOMAIN, prefix):
        errors.append(fe.invalid_value(field, key, "prefix part " + _SUBDOMAIN_MESSAGE))
    if not name or len(name) > 63 or not re.fullmatch(_NAME_PART, name):
        errors.append(fe.invalid_value(field, key, _NAME_PART_MESSAGE))
    return errors


def validate_object_meta(metadata: dict[str, Any], *, dns_label_name: bool) -> list[FieldError]:
    """Name (a DNS subdomain, or label where ``dns_label_name``), label keys and values,
    annotation keys, and the types of the maps."""
    errors: list[FieldError] = []
    name = metadata.get("name", "")
    if not isinstance(name, str) or not name:
        errors.append(fe.required("metadata.name", "name or generateName is required"))
    elif dns_label_name:
        errors += validate_dns_label(name, "metadata.name")
    else:
        errors += validate_dns_subdomain(name, "metadata.name")
    labels = metadata.get("labels") or {}
    for key, value in labels.items():
        errors += _qualified_name(key, "metadata.labels")
        if not isinstance(value, str):
            errors.append(fe.invalid_value("metadata.labels", value, "must be a string"))
        elif value and (len(value) > 63 or not re.fullmatch(_NAME_PART, value)):
            errors.append(fe.invalid_value("metadata.labels", value, _VALUE_MESSAGE))
    annotations = metadata.get("annotations") or {}
    for key, value in annotations.items():
        errors += _qualified_name(key.lower(), "metadata.annotations")
        if not isinstance(value, str):
            errors.append(fe.invalid_value("metadata.annotations", value, "must be a string"))
    return errors
