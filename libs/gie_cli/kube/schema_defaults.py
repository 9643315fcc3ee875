"""Pruning and defaulting of custom resources, as the API server does before validating.

* :func:`prune` drops fields the structural schema does not know (kept where the schema
  says ``x-kubernetes-preserve-unknown-fields``; ``apiVersion``, ``kind`` and known
  ``metadata`` fields are always kept) and returns their paths, so a request with
  ``fieldValidation=Strict`` can be refused and one with ``Warn`` warned about.
* :func:`apply_defaults` fills in every ``default`` of the schema where the field is
  absent (nulls of non-nullable fields count as absent), top-down, so defaults nested
  inside a defaulted object are applied too.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["OBJECT_META_FIELDS", "apply_defaults", "prune", "prune_metadata"]

Schema = dict[str, Any]

OBJECT_META_FIELDS = frozenset(
    {
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    }
)


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def prune_metadata(metadata: Any, path: str = "metadata") -> list[str]:
    """Drop the fields ObjectMeta does not have; returns their paths."""
    if not isinstance(metadata, dict):
        return []
    unknown = [key for key in metadata if key not in OBJECT_META_FIELDS]
    for key in unknown:
        del metadata[key]
    return [_child(path, key) for key in unknown]


def prune(value: Any, schema: Schema, path: str = "", *, root: bool = True) -> list[str]:
    """Remove unknown fields from ``value`` in place; returns their paths."""
    dropped: list[str] = []
    embedded = root or bool(schema.get("x-kubernetes-embedded-resource"))
    if isinstance(value, dict):
        properties: dict[str, Schema] = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
        for key in list(value):
            where = _child(path, key)
            if embedded and key in ("apiVersion", "kind"):
                continue
            if embedded and key == "metadata":
                dropped += prune_metadata(value[key], where)
            elif key in properties:
                dropped += prune(value[key], properties[key], where, root=False)
            elif isinstance(extra, dict):
                dropped += prune(value[key], extra, f"{path}[{key}]", root=False)
            elif not preserve and extra is not True:
                del value[key]
                dropped.append(where)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            dropped += prune(item, schema["items"], f"{path}[{index}]", root=False)
    return dropped


def apply_defaults(value: Any, schema: Schema) -> None:
    """Fill in the schema's defaults in place."""
    if isinstance(value, dict):
        properties: dict[str, Schema] = schema.get("properties") or {}
        for name, sub in properties.items():
            if name in value and value[name] is None and not sub.get("nullable"):
                del value[name]
            if name not in value and "default" in sub:
                value[name] = copy.deepcopy(sub["default"])
            if name in value:
                apply_defaults(value[name], sub)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for name, item in value.items():
                if name not in properties:
                    apply_defaults(item, extra)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            apply_defaults(item, schema["items"])
