"""What a served resource is: group, names, scope, versions, subresources, columns.

A :class:`ResourceType` describes one resource (``pods``, ``inferencepools`` of one
group) across the versions it is served in; the built-in ones are listed here, custom
ones are made from CustomResourceDefinitions (:mod:`gie_cli.kube.crd_types`). Objects
are stored once, at the storage version, and shown in whichever served version a
request names (no conversion beyond ``apiVersion``: every CRD here uses ``None``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gie_cli.kube.status import ResourceRef

__all__ = [
    "BUILTIN_TYPES",
    "CONFIGMAP_TYPE",
    "CRD_TYPE",
    "LEASE_TYPE",
    "NAMESPACE_TYPE",
    "POD_TYPE",
    "STANDARD_VERBS",
    "SUBRESOURCE_VERBS",
    "ResourceType",
    "VersionSpec",
    "api_version",
    "version_priority",
]

STANDARD_VERBS = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)
SUBRESOURCE_VERBS = ("get", "patch", "update")


@dataclass(frozen=True, slots=True)
class VersionSpec:
    """One served version: its schema (custom resources), columns and subresources."""

    name: str
    schema: dict[str, Any] | None = None
    printer_columns: tuple[dict[str, Any], ...] = ()
    subresources: frozenset[str] = frozenset()
    deprecated: bool = False
    deprecation_warning: str | None = None


@dataclass(frozen=True, slots=True)
class ResourceType:
    """One resource of one group, served in ``versions`` (highest priority first)."""

    group: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    versions: tuple[VersionSpec, ...]
    storage_version: str
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    builtin: bool = True
    list_kind: str = ""

    @property
    def key(self) -> tuple[str, str]:
        """Where its objects are stored: (group, plural)."""
        return (self.group, self.plural)

    @property
    def list_kind_name(self) -> str:
        return self.list_kind or f"{self.kind}List"

    def version(self, name: str) -> VersionSpec | None:
        return next((v for v in self.versions if v.name == name), None)

    def has_status_subresource(self, version: str) -> bool:
        spec = self.version(version)
        return spec is not None and "status" in spec.subresources

    def ref(self, name: str = "") -> ResourceRef:
        return ResourceRef(self.group, self.plural, name)


def api_version(group: str, version: str) -> str:
    """``v1`` for the core group, ``group/version`` otherwise."""
    return f"{group}/{version}" if group else version


_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(name: str) -> tuple[int, int, int, str]:
    """Sort key putting versions in Kubernetes order: GA, then beta, then alpha (each
    highest first), then anything else alphabetically."""
    match = _VERSION.match(name)
    if match is None:
        return (3, 0, 0, name)
    major, stage, minor = match.groups()
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -int(major), -int(minor or 0), name)


def _builtin(
    group: str,
    plural: str,
    kind: str,
    *,
    namespaced: bool,
    short_names: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    status: bool = False,
    version: str = "v1",
) -> ResourceType:
    subresources = frozenset({"status"}) if status else frozenset()
    return ResourceType(
        group=group,
        plural=plural,
        singular=kind.lower(),
        kind=kind,
        namespaced=namespaced,
        versions=(VersionSpec(version, subresources=subresources),),
        storage_version=version,
        short_names=short_names,
        categories=categories,
    )


NAMESPACE_TYPE = _builtin(
    "", "namespaces", "Namespace", namespaced=False, short_names=("ns",), status=True
)
POD_TYPE = _builtin(
    "", "pods", "Pod", namespaced=True, short_names=("po",), categories=("all",), status=True
)
CONFIGMAP_TYPE = _builtin("", "configmaps", "ConfigMap", namespaced=True, short_names=("cm",))
LEASE_TYPE = _builtin("coordination.k8s.io", "leases", "Lease", namespaced=True)
CRD_TYPE = _builtin(
    "apiextensions.k8s.io",
    "customresourcedefinitions",
    "CustomResourceDefinition",
    namespaced=False,
    short_names=("crd", "crds"),
    categories=("api-extensions",),
    status=True,
)

BUILTIN_TYPES: tuple[ResourceType, ...] = (
    NAMESPACE_TYPE,
    POD_TYPE,
    CONFIGMAP_TYPE,
    LEASE_TYPE,
    CRD_TYPE,
)
