"""How objects of one kind are written: the rules the registry applies per kind.

The API server gives every kind a *strategy*: what is defaulted, what is validated,
which parts a write through the main resource or the ``status`` subresource may change,
whether ``metadata.generation`` is tracked, and how a delete proceeds. :class:`Strategy`
is the default (ConfigMaps and Leases use it as is); Pods, Namespaces, CRDs and custom
resources have their own (``*_strategy`` modules), chosen by :func:`strategy_for`.
"""

from __future__ import annotations

from typing import Any

from gie_cli.kube.metadata_validation import validate_object_meta
from gie_cli.kube.resource_types import ResourceType
from gie_cli.kube.schema_defaults import prune_metadata
from gie_cli.kube.status import FieldError

__all__ = ["Strategy", "without"]

Obj = dict[str, Any]


def without(obj: Obj, *fields: str) -> Obj:
    """A shallow copy of ``obj`` without the top-level ``fields``."""
    return {key: value for key, value in obj.items() if key not in fields}


class Strategy:
    """The default strategy; subclasses override what their kind does differently."""

    tracks_generation = False
    returns_deleted_object = False
    name_is_dns_label = False

    def __init__(self, rtype: ResourceType) -> None:
        self.rtype = rtype

    def status_is_subresource(self, version: str) -> bool:
        return self.rtype.has_status_subresource(version)

    def unknown_fields(self, obj: Obj, version: str) -> list[str]:
        """Remove fields the kind does not have; returns their paths."""
        return prune_metadata(obj.get("metadata"))

    def apply_defaults(self, obj: Obj, version: str) -> None:
        """Fill in defaulted fields (on every write, and on reads for custom resources)."""

    def prepare_for_create(self, obj: Obj, version: str) -> None:
        """Reset what a create may not set (status, where it is a subresource)."""
        if self.status_is_subresource(version):
            obj.pop("status", None)

    def prepare_for_update(self, new: Obj, old: Obj, version: str, subresource: str) -> None:
        """Keep what this write may not change: status through the main resource,
        everything but status through ``/status``."""
        if subresource == "status":
            kept = {key: value for key, value in old.items() if key != "status"}
            status = new.get("status")
            new.clear()
            new.update(kept)
            if status is not None:
                new["status"] = status
        elif self.status_is_subresource(version):
            new.pop("status", None)
            if "status" in old:
                new["status"] = old["status"]

    def spec_changed(self, new: Obj, old: Obj, version: str) -> bool:
        """Whether the write changes what ``metadata.generation`` counts."""
        ignored = ("metadata", "status") if self.status_is_subresource(version) else ("metadata",)
        return without(new, *ignored) != without(old, *ignored)

    def validate(self, obj: Obj, old: Obj | None, version: str) -> list[FieldError]:
        return validate_object_meta(obj["metadata"], dns_label_name=self.name_is_dns_label)

    def grace_period(self, obj: Obj, requested: int | None) -> int:
        """Seconds a delete waits before the object is gone (0: removed at once)."""
        return 0
