"""OpenAPI definitions of the kinds served: their names, and schemas deep enough for
``kubectl explain`` of custom resources (the CRD's own schema) and the outline of the
built-in ones (their top-level fields)."""

from __future__ import annotations

import copy
from typing import Any

from gie_cli.kube.resource_types import ResourceType

__all__ = ["META", "definition_name", "kind_schema", "shared_definitions"]

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
_BUILTIN_PACKAGES = {
    "": "io.k8s.api.core",
    "coordination.k8s.io": "io.k8s.api.coordination",
    "apiextensions.k8s.io": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions",
}

_STRING = {"type": "string"}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string", "default": ""}}


def definition_name(rtype: ResourceType, version: str) -> str:
    """``io.k8s.api.core.v1.Pod``; for custom groups the reversed group, as the server names
    them (``io.k8s.networking.inference.v1.InferencePool``)."""
    if rtype.builtin:
        return f"{_BUILTIN_PACKAGES[rtype.group]}.{version}.{rtype.kind}"
    return ".".join([*reversed(rtype.group.split(".")), version, rtype.kind])


def _object_meta() -> dict[str, Any]:
    return {
        "description": "ObjectMeta is metadata that all persisted resources must have.",
        "type": "object",
        "properties": {
            "annotations": {
                **_STRING_MAP,
                "description": "Annotations is an unstructured key value map.",
            },
            "creationTimestamp": {"type": "string", "format": "date-time"},
            "deletionGracePeriodSeconds": {"type": "integer", "format": "int64"},
            "deletionTimestamp": {"type": "string", "format": "date-time"},
            "finalizers": {
                "type": "array",
                "items": {"type": "string", "default": ""},
                "x-kubernetes-list-type": "set",
                "x-kubernetes-patch-strategy": "merge",
            },
            "generateName": _STRING,
            "generation": {"type": "integer", "format": "int64"},
            "labels": {
                **_STRING_MAP,
                "description": "Map of string keys and values to organize and categorize objects.",
            },
            "managedFields": {"type": "array", "items": {"type": "object"}},
            "name": {**_STRING, "description": "Name must be unique within a namespace."},
            "namespace": _STRING,
            "ownerReferences": {
                "type": "array",
                "items": {"type": "object"},
                "x-kubernetes-list-map-keys": ["uid"],
                "x-kubernetes-list-type": "map",
                "x-kubernetes-patch-merge-key": "uid",
                "x-kubernetes-patch-strategy": "merge",
            },
            "resourceVersion": _STRING,
            "selfLink": _STRING,
            "uid": _STRING,
        },
    }


def shared_definitions() -> dict[str, Any]:
    """ObjectMeta, Status, DeleteOptions and Patch: what every group-version refers to."""
    return {
        f"{META}.ObjectMeta": _object_meta(),
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
        f"{META}.Patch": {
            "description": "The body of a PATCH request.",
            "type": "object",
        },
    }


def _gvk(rtype: ResourceType, version: str) -> list[dict[str, str]]:
    return [{"group": rtype.group, "kind": rtype.kind, "version": version}]


def kind_schema(rtype: ResourceType, version: str, *, ref_prefix: str) -> dict[str, Any]:
    """The definition of ``rtype`` in ``version`` (``ref_prefix``: ``#/components/schemas/``
    for OpenAPI v3, ``#/definitions/`` for v2)."""
    spec = rtype.version(version)
    schema: dict[str, Any]
    if spec is not None and spec.schema is not None:
        schema = copy.deepcopy(spec.schema)
    else:
        schema = {
            "description": f"{rtype.kind} (its fields below the top level are not described here).",
            "type": "object",
            "properties": {
                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        }
        if rtype.key == ("", "configmaps"):
            schema["properties"] = {
                "data": _STRING_MAP,
                "binaryData": {**_STRING_MAP},
                "immutable": {"type": "boolean"},
            }
    properties = schema.setdefault("properties", {})
    properties["apiVersion"] = {
        **_STRING,
        "description": "The versioned schema of this representation of an object.",
    }
    properties["kind"] = {
        **_STRING,
        "description": "The REST resource this object represents.",
    }
    properties["metadata"] = {"allOf": [{"$ref": f"{ref_prefix}{META}.ObjectMeta"}], "default": {}}
    schema["x-kubernetes-group-version-kind"] = _gvk(rtype, version)
    return schema


def list_schema(rtype: ResourceType, version: str, *, ref_prefix: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": _STRING,
            "items": {
                "type": "array",
                "items": {"$ref": f"{ref_prefix}{definition_name(rtype, version)}"},
            },
            "kind": _STRING,
            "metadata": {"type": "object"},
        },
        "x-kubernetes-group-version-kind": [
            {"group": rtype.group, "kind": rtype.list_kind_name, "version": version}
        ],
    }
