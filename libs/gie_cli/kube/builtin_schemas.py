"""OpenAPI schemas of the built-in kinds, read from the kubernetes-asyncio models.

The client library is generated from the Kubernetes OpenAPI document, so its model
classes carry every field of Pod, Namespace, ConfigMap, Lease and CRD with its type,
description and whether it is required. This module turns them back into definitions
named as the real server names them (``io.k8s.api.core.v1.Container``), so ``kubectl
explain pod.spec.containers`` reads like it does against a real cluster.
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any

from kubernetes_asyncio.client import models

__all__ = ["builtin_definitions", "meta_definitions"]

META_PACKAGE = "io.k8s.apimachinery.pkg.apis.meta.v1"
_META_MODELS = frozenset(
    {"V1ObjectMeta", "V1OwnerReference", "V1ManagedFieldsEntry", "V1ListMeta", "V1Condition"}
)
_ROOTS: dict[tuple[str, str], tuple[str, str]] = {
    ("", "pods"): ("V1Pod", "io.k8s.api.core.v1"),
    ("", "namespaces"): ("V1Namespace", "io.k8s.api.core.v1"),
    ("", "configmaps"): ("V1ConfigMap", "io.k8s.api.core.v1"),
    ("coordination.k8s.io", "leases"): ("V1Lease", "io.k8s.api.coordination.v1"),
    ("apiextensions.k8s.io", "customresourcedefinitions"): (
        "V1CustomResourceDefinition",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1",
    ),
}
_SCALARS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number", "format": "double"},
    "bool": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "object": {"x-kubernetes-preserve-unknown-fields": True},
}
_REQUIRED = re.compile(r"Invalid value for `(\w+)`, must not be `None`")


def _short_name(model: str) -> str:
    return re.sub(r"^(Apiextensions|Coordination|Core)?V\d+((alpha|beta)\d+)?", "", model)


def definition_of(model: str, package: str) -> str:
    return f"{META_PACKAGE if model in _META_MODELS else package}.{_short_name(model)}"


def _description(cls: type, attribute: str) -> str:
    doc = getattr(cls, attribute).__doc__ or ""
    parts = [p.strip() for p in doc.split("\n\n")]
    text = parts[1] if len(parts) > 2 else ""
    return text.replace("# noqa: E501", "").strip()


def _required(cls: type) -> list[str]:
    source = inspect.getsource(cls)
    attributes = cls.attribute_map  # type: ignore[attr-defined]
    return sorted({attributes[name] for name in _REQUIRED.findall(source) if name in attributes})


class _Builder:
    def __init__(self, package: str, ref_prefix: str) -> None:
        self.package = package
        self.ref_prefix = ref_prefix
        self.definitions: dict[str, Any] = {}

    def type_schema(self, text: str) -> dict[str, Any]:
        if text in _SCALARS:
            return dict(_SCALARS[text])
        if match := re.fullmatch(r"list\[(.+)\]", text):
            return {"type": "array", "items": self.type_schema(match.group(1))}
        if match := re.fullmatch(r"dict\(str, (.+)\)", text):
            return {"type": "object", "additionalProperties": self.type_schema(match.group(1))}
        return {"$ref": self.ref_prefix + self.model(text)}

    def model(self, name: str) -> str:
        definition = definition_of(name, self.package)
        if definition in self.definitions:
            return definition
        cls = getattr(models, name)
        self.definitions[definition] = {}  # placeholder: models refer to themselves
        properties = {}
        for attribute, type_text in cls.openapi_types.items():
            field = self.type_schema(type_text)
            if "$ref" in field:
                field = {"allOf": [field]}
            description = _description(cls, attribute)
            if description:
                field["description"] = description
            properties[cls.attribute_map[attribute]] = field
        # the classes' own docstrings are the generator's boilerplate: no description
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        required = _required(cls)
        if required:
            schema["required"] = required
        self.definitions[definition] = schema
        return definition


@functools.cache
def builtin_definitions(key: tuple[str, str], ref_prefix: str) -> tuple[str, dict[str, Any]]:
    """(the kind's definition name, every definition it needs) for a built-in resource."""
    model, package = _ROOTS[key]
    builder = _Builder(package, ref_prefix)
    root = builder.model(model)
    return root, builder.definitions


@functools.cache
def meta_definitions(ref_prefix: str) -> dict[str, Any]:
    """ObjectMeta and what it refers to (every kind's ``metadata``)."""
    builder = _Builder(META_PACKAGE, ref_prefix)
    builder.model("V1ObjectMeta")
    return builder.definitions
