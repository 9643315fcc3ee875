"""Namespaces: named by a DNS label, labelled with their own name, kept by the
``kubernetes`` finalizer while their contents are deleted (phase ``Terminating``)."""

from __future__ import annotations

from typing import Any

from gie_cli.kube.strategy import Strategy

__all__ = ["NAME_LABEL", "PROTECTED_NAMESPACES", "NamespaceStrategy"]

Obj = dict[str, Any]

NAME_LABEL = "kubernetes.io/metadata.name"
PROTECTED_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})


class NamespaceStrategy(Strategy):
    returns_deleted_object = True
    name_is_dns_label = True

    def apply_defaults(self, obj: Obj, version: str) -> None:
        metadata = obj["metadata"]
        if metadata.get("name"):
            labels = metadata.get("labels") or {}
            labels[NAME_LABEL] = metadata["name"]
            metadata["labels"] = labels

    def prepare_for_create(self, obj: Obj, version: str) -> None:
        obj["spec"] = {"finalizers": ["kubernetes"]}
        obj["status"] = {"phase": "Active"}

    def prepare_for_update(self, new: Obj, old: Obj, version: str, subresource: str) -> None:
        super().prepare_for_update(new, old, version, subresource)
        if subresource != "status":
            new["spec"] = old.get("spec", {})
