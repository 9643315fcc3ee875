"""The OpenAPI documents: ``/openapi/v3`` (an index of per group-version documents,
each addressed with a content hash) and ``/openapi/v2`` (one Swagger 2.0 document, JSON).

Documents are built from the catalog and kept until the catalog changes (a CRD is
added, changed or removed), so clients that poll them cost little.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from gie_cli.kube.catalog import Catalog
from gie_cli.kube.openapi_paths import PATCH_TYPES, V3_REFS, resource_paths
from gie_cli.kube.openapi_schemas import (
    definition_name,
    kind_definitions,
    list_schema,
    shared_definitions,
)

__all__ = ["SERVER_VERSION", "OpenApiDocuments", "document_hash"]

SERVER_VERSION = "v1.34.0"
_V2_REFS = "#/definitions/"


def document_hash(document: dict[str, Any]) -> str:
    """The hash clients use to cache a document (it changes whenever the document does)."""
    raw = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha512(raw).hexdigest().upper()


class OpenApiDocuments:
    """The documents of one catalog, rebuilt only when the catalog changes."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._revision = -1
        self._v3: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        self._v2: dict[str, Any] | None = None

    def _fresh(self) -> None:
        if self._revision != self.catalog.revision:
            self._revision = self.catalog.revision
            self._v3.clear()
            self._v2 = None

    def v3_document(self, group: str, version: str) -> tuple[dict[str, Any], str] | None:
        """(the OpenAPI 3.0 document of one group-version, its hash); None if not served."""
        self._fresh()
        if (group, version) not in self._v3:
            rtypes = self.catalog.in_group_version(group, version)
            if not rtypes:
                return None
            schemas = shared_definitions(V3_REFS)
            paths: dict[str, Any] = {}
            for rtype in rtypes:
                schemas.update(kind_definitions(rtype, version, ref_prefix=V3_REFS))
                name = definition_name(rtype, version)
                schemas[f"{name}List"] = list_schema(rtype, version, ref_prefix=V3_REFS)
                paths.update(resource_paths(rtype, version))
            document = {
                "openapi": "3.0.0",
                "info": {"title": "Kubernetes", "version": SERVER_VERSION},
                "paths": paths,
                "components": {"schemas": schemas},
            }
            self._v3[(group, version)] = (document, document_hash(document))
        return self._v3[(group, version)]

    def v3_index(self) -> dict[str, Any]:
        """``/openapi/v3``: the path of every group-version's document, with its hash."""
        paths: dict[str, Any] = {}
        for entry in self.catalog.groups():
            for version in entry.versions:
                found = self.v3_document(entry.group, version)
                if found is None:
                    continue
                relative = f"api/{version}" if not entry.group else f"apis/{entry.group}/{version}"
                paths[relative] = {"serverRelativeURL": f"/openapi/v3/{relative}?hash={found[1]}"}
        return {"paths": paths}

    def v2(self) -> dict[str, Any]:
        """``/openapi/v2``: every kind's definition and the patch types its PATCH consumes."""
        self._fresh()
        if self._v2 is None:
            definitions = shared_definitions(_V2_REFS)
            paths: dict[str, Any] = {}
            for rtype in self.catalog.types():
                for spec in rtype.versions:
                    definitions.update(kind_definitions(rtype, spec.name, ref_prefix=_V2_REFS))
                    paths.update(_v2_patch_path(rtype, spec.name))
            self._v2 = {
                "swagger": "2.0",
                "info": {"title": "Kubernetes", "version": SERVER_VERSION},
                "paths": paths,
                "definitions": definitions,
            }
        return self._v2


def _v2_patch_path(rtype: Any, version: str) -> dict[str, Any]:
    prefix = f"/api/{version}" if not rtype.group else f"/apis/{rtype.group}/{version}"
    scope = f"{prefix}/namespaces/{{namespace}}" if rtype.namespaced else prefix
    consumes = [*PATCH_TYPES]
    if rtype.builtin:
        consumes.append("application/strategic-merge-patch+json")
    patch = {
        "consumes": consumes,
        "operationId": f"patch{rtype.kind}",
        "parameters": [{"name": "fieldValidation", "in": "query", "type": "string"}],
        "responses": {
            "200": {
                "description": "OK",
                "schema": {"$ref": f"{_V2_REFS}{definition_name(rtype, version)}"},
            }
        },
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": {
            "group": rtype.group,
            "version": version,
            "kind": rtype.kind,
        },
    }
    return {f"{scope}/{rtype.plural}/{{name}}": {"patch": patch}}
