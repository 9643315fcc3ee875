"""API discovery: what kubectl and client libraries read to learn the served resources.

* Legacy discovery: ``/api`` (APIVersions), ``/apis`` (APIGroupList), ``/apis/<group>``
  (APIGroup), ``/api/v1`` and ``/apis/<group>/<version>`` (APIResourceList, with verbs,
  short names, categories, kind, scope, singular name and subresources).
* Aggregated discovery (``apidiscovery.k8s.io/v2``, what kubectl 1.34 asks for first):
  ``/api`` and ``/apis`` answer an APIGroupDiscoveryList when the Accept header names it.
"""

from __future__ import annotations

from typing import Any

from gie_cli.kube.catalog import Catalog
from gie_cli.kube.resource_types import (
    STANDARD_VERBS,
    SUBRESOURCE_VERBS,
    ResourceType,
    api_version,
)

__all__ = [
    "AGGREGATED_CONTENT_TYPE",
    "aggregated_discovery",
    "api_group",
    "api_group_list",
    "api_versions",
    "resource_list",
]

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group_entry(catalog: Catalog, group: str) -> dict[str, Any] | None:
    for entry in catalog.groups():
        if entry.group == group:
            versions = [
                {"groupVersion": api_version(group, v), "version": v} for v in entry.versions
            ]
            return {"name": group, "versions": versions, "preferredVersion": versions[0]}
    return None


def api_group_list(catalog: Catalog) -> dict[str, Any]:
    groups = [_group_entry(catalog, entry.group) for entry in catalog.groups() if entry.group]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(catalog: Catalog, group: str) -> dict[str, Any] | None:
    entry = _group_entry(catalog, group)
    if entry is None:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **entry}


def _resource_entries(rtype: ResourceType, version: str) -> list[dict[str, Any]]:
    main: dict[str, Any] = {
        "name": rtype.plural,
        "singularName": rtype.singular,
        "namespaced": rtype.namespaced,
        "kind": rtype.kind,
        "verbs": list(STANDARD_VERBS),
    }
    if rtype.short_names:
        main["shortNames"] = list(rtype.short_names)
    if rtype.categories:
        main["categories"] = list(rtype.categories)
    entries = [main]
    spec = rtype.version(version)
    for sub in sorted(spec.subresources if spec is not None else ()):
        entries.append(
            {
                "name": f"{rtype.plural}/{sub}",
                "singularName": "",
                "namespaced": rtype.namespaced,
                "kind": rtype.kind if sub == "status" else "Scale",
                "verbs": list(SUBRESOURCE_VERBS),
            }
        )
    return entries


def resource_list(catalog: Catalog, group: str, version: str) -> dict[str, Any] | None:
    rtypes = catalog.in_group_version(group, version)
    if not rtypes:
        return None
    resources = [entry for rtype in rtypes for entry in _resource_entries(rtype, version)]
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": api_version(group, version),
        "resources": resources,
    }


def _aggregated_resource(rtype: ResourceType, version: str) -> dict[str, Any]:
    kind = {"group": rtype.group, "version": version, "kind": rtype.kind}
    resource: dict[str, Any] = {
        "resource": rtype.plural,
        "responseKind": kind,
        "scope": "Namespaced" if rtype.namespaced else "Cluster",
        "singularResource": rtype.singular,
        "verbs": list(STANDARD_VERBS),
    }
    if rtype.short_names:
        resource["shortNames"] = list(rtype.short_names)
    if rtype.categories:
        resource["categories"] = list(rtype.categories)
    spec = rtype.version(version)
    subresources = sorted(spec.subresources if spec is not None else ())
    if subresources:
        resource["subresources"] = [
            {
                "subresource": sub,
                "responseKind": kind
                if sub == "status"
                else {"group": "autoscaling", "version": "v1", "kind": "Scale"},
                "verbs": list(SUBRESOURCE_VERBS),
            }
            for sub in subresources
        ]
    return resource


def aggregated_discovery(catalog: Catalog, *, core: bool) -> dict[str, Any]:
    """The APIGroupDiscoveryList of ``/api`` (``core``) or of ``/apis``."""
    items = []
    for entry in catalog.groups():
        if (entry.group == "") != core:
            continue
        versions = []
        for version in entry.versions:
            resources = [
                _aggregated_resource(t, version)
                for t in catalog.in_group_version(entry.group, version)
            ]
            versions.append({"version": version, "resources": resources, "freshness": "Current"})
        items.append(
            {"metadata": {"name": entry.group, "creationTimestamp": None}, "versions": versions}
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }
