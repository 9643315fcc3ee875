"""OpenAPI definitions of the kinds served, named as the real server names them.

Built-in kinds come from :mod:`gie_cli.kube.builtin_schemas` (every field, with its
description); custom resources carry their CRD's ``openAPIV3Schema``, with ``metadata``
pointing at ObjectMeta. Every kind's definition has ``x-kubernetes-group-version-kind``,
which is how kubectl finds it.
"""

from __future__ import annotations

import copy
from typing import Any

from gie_cli.kube.builtin_schemas import META_PACKAGE, builtin_definitions, meta_definitions
from gie_cli.kube.resource_types import ResourceType

__all__ = ["META", "definition_name", "kind_definitions", "list_schema", "shared_definitions"]

META = META_PACKAGE
_STRING = {"type": "string"}


def definition_name(rtype: ResourceType, version: str) -> str:
    """``io.k8s.api.core.v1.Pod``; for custom groups the reversed group, as the server names
    them (``io.k8s.networking.inference.v1.InferencePool``)."""
    if rtype.builtin:
        return builtin_definitions(rtype.key, "#/")[0]
    return ".".join([*reversed(rtype.group.split(".")), version, rtype.kind])


def shared_definitions(ref_prefix: str) -> dict[str, Any]:
    """ObjectMeta, Status, DeleteOptions and Patch: what every group-version refers to."""
    return {
        **copy.deepcopy(meta_definitions(ref_prefix)),
        f"{META}.Status": {
            "description": "Status is a return value for calls that don't return other objects.",
            "type": "object",
            "properties": {
                "apiVersion": _STRING,
                "code": {"type": "integer", "format": "int32"},
                "details": {"type": "object"},
                "kind": _STRING,
                "message": _STRING,
                "reason": _STRING,
                "status": _STRING,
            },
        },
        f"{META}.DeleteOptions": {
            "type": "object",
            "properties": {
                "apiVersion": _STRING,
                "dryRun": {"type": "array", "items": _STRING},
                "gracePeriodSeconds": {"type": "integer", "format": "int64"},
                "kind": _STRING,
                "preconditions": {"type": "object"},
                "propagationPolicy": _STRING,
            },
        },
        f"{META}.Patch": {"description": "The body of a PATCH request.", "type": "object"},
    }


def _gvk(rtype: ResourceType, version: str) -> list[dict[str, str]]:
    return [{"group": rtype.group, "kind": rtype.kind, "version": version}]


def kind_definitions(rtype: ResourceType, version: str, *, ref_prefix: str) -> dict[str, Any]:
    """The definition of ``rtype`` in ``version`` and those it refers to (``ref_prefix``:
    ``#/components/schemas/`` for OpenAPI v3, ``#/definitions/`` for v2)."""
    if rtype.builtin:
        root, definitions = builtin_definitions(rtype.key, ref_prefix)
        definitions = copy.deepcopy(definitions)
        definitions[root]["x-kubernetes-group-version-kind"] = _gvk(rtype, version)
        return definitions
    spec = rtype.version(version)
    schema: dict[str, Any] = copy.deepcopy(spec.schema) if spec and spec.schema else {}
    schema.setdefault("type", "object")
    properties = schema.setdefault("properties", {})
    properties["apiVersion"] = {
        **_STRING,
        "description": "The versioned schema of this representation of an object.",
    }
    properties["kind"] = {**_STRING, "description": "The REST resource this object represents."}
    properties["metadata"] = {"allOf": [{"$ref": f"{ref_prefix}{META}.ObjectMeta"}]}
    schema["x-kubernetes-group-version-kind"] = _gvk(rtype, version)
    return {definition_name(rtype, version): schema}


def list_schema(rtype: ResourceType, version: str, *, ref_prefix: str) -> dict[str, Any]:
    item = {"$ref": f"{ref_prefix}{definition_name(rtype, version)}"}
    return {
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": _STRING,
            "items": {"type": "array", "items": item},
            "kind": _STRING,
            "metadata": {"type": "object"},
        },
        "x-kubernetes-group-version-kind": [
            {"group": rtype.group, "kind": rtype.list_kind_name, "version": version}
        ],
    }
