"""Strategic-merge metadata of the built-in kinds: which lists merge, and by which key.

What the Go types say in their ``patchStrategy``/``patchMergeKey`` tags, for the fields
of the kinds served here. A :class:`MergeList` merges its items by ``key`` (``key`` None:
a list of primitives merged as a set); lists not named here are replaced whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

__all__ = ["BUILTIN_PATCH_META", "MergeList", "Node", "child"]


@dataclass(frozen=True, slots=True)
class MergeList:
    key: str | None
    item: dict[str, Node] = field(default_factory=dict)
    retain_keys: bool = False


Node = Union[dict[str, "Node"], MergeList]  # noqa: UP007  (a recursive alias)

_OBJECT_META: dict[str, Node] = {
    "ownerReferences": MergeList("uid"),
    "finalizers": MergeList(None),
}

_CONTAINER: dict[str, Node] = {
    "ports": MergeList("containerPort"),
    "env": MergeList("name"),
    "volumeMounts": MergeList("mountPath"),
    "volumeDevices": MergeList("devicePath"),
}

_POD_SPEC: dict[str, Node] = {
    "containers": MergeList("name", _CONTAINER),
    "initContainers": MergeList("name", _CONTAINER),
    "ephemeralContainers": MergeList("name", _CONTAINER),
    "volumes": MergeList("name", retain_keys=True),
    "imagePullSecrets": MergeList("name"),
    "hostAliases": MergeList("ip"),
    "resourceClaims": MergeList("name", retain_keys=True),
    "schedulingGates": MergeList("name"),
}

_POD_STATUS: dict[str, Node] = {
    "conditions": MergeList("type"),
    "podIPs": MergeList("ip"),
    "hostIPs": MergeList("ip"),
    "resourceClaimStatuses": MergeList("name"),
}

BUILTIN_PATCH_META: dict[tuple[str, str], dict[str, Node]] = {
    ("", "pods"): {"metadata": _OBJECT_META, "spec": _POD_SPEC, "status": _POD_STATUS},
    ("", "namespaces"): {
        "metadata": _OBJECT_META,
        "status": {"conditions": MergeList("type")},
    },
    ("", "configmaps"): {"metadata": _OBJECT_META},
    ("coordination.k8s.io", "leases"): {"metadata": _OBJECT_META},
    ("apiextensions.k8s.io", "customresourcedefinitions"): {"metadata": _OBJECT_META},
}


def child(node: Node | None, name: str) -> Node | None:
    """The metadata of field ``name`` below ``node`` (None when it has none)."""
    if isinstance(node, dict):
        return node.get(name)
    return None
