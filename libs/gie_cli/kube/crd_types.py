"""A CustomResourceDefinition read as the resource type it registers."""

from __future__ import annotations

from typing import Any

from gie_cli.kube.resource_types import ResourceType, VersionSpec, version_priority

__all__ = ["crd_resource_type", "default_printer_columns"]


def default_printer_columns() -> tuple[dict[str, Any], ...]:
    """The columns a CRD without ``additionalPrinterColumns`` gets (after the name)."""
    return ({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},)


def _version_spec(version: dict[str, Any]) -> VersionSpec:
    schema = (version.get("schema") or {}).get("openAPIV3Schema")
    subresources = frozenset(
        name for name in ("status",) if name in (version.get("subresources") or {})
    )
    columns = tuple(version.get("additionalPrinterColumns") or ()) or default_printer_columns()
    return VersionSpec(
        name=version["name"],
        schema=schema,
        printer_columns=columns,
        subresources=subresources,
        deprecated=bool(version.get("deprecated", False)),
        deprecation_warning=version.get("deprecationWarning"),
    )


def crd_resource_type(crd: dict[str, Any]) -> ResourceType:
    """The resource type a (valid) CRD serves: its served versions, highest priority
    first, and its storage version."""
    spec = crd["spec"]
    names = spec["names"]
    served = [v for v in spec["versions"] if v.get("served", True)]
    served.sort(key=lambda v: version_priority(v["name"]))
    storage = next(v["name"] for v in spec["versions"] if v.get("storage"))
    return ResourceType(
        group=spec["group"],
        plural=names["plural"],
        singular=names.get("singular") or names["kind"].lower(),
        kind=names["kind"],
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        versions=tuple(_version_spec(v) for v in served),
        storage_version=storage,
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        builtin=False,
        list_kind=names.get("listKind") or f"{names['kind']}List",
    )
