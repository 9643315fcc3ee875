"""The OpenAPI documents: ``/openapi/v3`` (an index of per group-version documents,
each addressed with a content hash) and ``/openapi/v2`` (one Swagger 2.0 document).

Every resource path carries the operations the server supports, each with
``x-kubernetes-group-version-kind`` and ``x-kubernetes-action``. PATCH lists the
``fieldValidation`` query parameter, which tells kubectl to leave validation to the
server (``fieldValidation=Strict``), and the patch media types the resource accepts.
Built-in kinds do not advertise strategic merge in OpenAPI v3 (their schemas here carry
no patch metadata), so kubectl computes their patches from its compiled-in types.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from gie_cli.kube.catalog import Catalog
from gie_cli.kube.openapi_schemas import (
    META,
    definition_name,
    kind_schema,
    list_schema,
    shared_definitions,
)
from gie_cli.kube.resource_types import ResourceType

__all__ = [
    "SERVER_VERSION",
    "document_hash",
    "openapi_v2",
    "openapi_v3_document",
    "openapi_v3_index",
]

SERVER_VERSION = "v1.34.0"
_V3_REFS = "#/components/schemas/"
_PATCH_TYPES_CUSTOM = ["application/json-patch+json", "application/merge-patch+json"]


def _parameter(name: str, where: str = "query", description: str = "") -> dict[str, Any]:
    parameter: dict[str, Any] = {
        "name": name,
        "in": where,
        "description": description,
        "schema": {"type": "string", "uniqueItems": True},
    }
    if where == "path":
        parameter["required"] = True
    return parameter


_WRITE_PARAMETERS = [
    _parameter(
        "dryRun", description="When present, indicates that modifications should not be persisted."
    ),
    _parameter(
        "fieldManager",
        description="A name associated with the actor or entity that is making these changes.",
    ),
    _parameter(
        "fieldValidation",
        description=(
            "How the server handles objects in the request containing unknown or duplicate "
            "fields. Valid values are: Ignore, Warn, Strict."
        ),
    ),
]


def _paths(rtype: ResourceType, version: str) -> dict[str, Any]:
    prefix = f"/api/{version}" if not rtype.group else f"/apis/{rtype.group}/{version}"
    scope = f"{prefix}/namespaces/{{namespace}}" if rtype.namespaced else prefix
    ref = {"$ref": f"{_V3_REFS}{definition_name(rtype, version)}"}
    list_ref = {"$ref": f"{_V3_REFS}{definition_name(rtype, version)}List"}
    gvk = {"group": rtype.group, "version": version, "kind": rtype.kind}
    kind_word = rtype.kind

    def operation(
        action: str,
        verb_id: str,
        body: dict[str, Any] | None,
        result: dict[str, Any],
        parameters: list[dict[str, Any]],
    ) -> dict[str, Any]:
        op: dict[str, Any] = {
            "description": f"{action} {kind_word}",
            "operationId": f"{verb_id}{kind_word}",
            "parameters": parameters,
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": result}}}
            },
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
        }
        if body is not None:
            op["requestBody"] = body
        return op

    patch_types = _PATCH_TYPES_CUSTOM
    json_body = {"content": {"*/*": {"schema": ref}}, "required": True}
    patch_body = {
        "content": {t: {"schema": {"$ref": f"{_V3_REFS}{META}.Patch"}} for t in patch_types},
        "required": True,
    }
    item_params = [
        _parameter("name", "path"),
        *([_parameter("namespace", "path")] if rtype.namespaced else []),
    ]
    collection_params = [_parameter("namespace", "path")] if rtype.namespaced else []
    paths: dict[str, Any] = {
        f"{scope}/{rtype.plural}": {
            "get": operation(
                "list",
                "list",
                None,
                list_ref,
                [
                    _parameter(p)
                    for p in (
                        "labelSelector",
                        "fieldSelector",
                        "limit",
                        "continue",
                        "resourceVersion",
                        "resourceVersionMatch",
                        "watch",
                        "allowWatchBookmarks",
                        "timeoutSeconds",
                        "sendInitialEvents",
                    )
                ],
            ),
            "post": operation("post", "create", json_body, ref, _WRITE_PARAMETERS),
            "delete": operation(
                "deletecollection",
                "deleteCollection",
                None,
                {"$ref": f"{_V3_REFS}{META}.Status"},
                [],
            ),
            "parameters": collection_params,
        },
        f"{scope}/{rtype.plural}/{{name}}": {
            "get": operation("get", "read", None, ref, []),
            "put": operation("put", "replace", json_body, ref, _WRITE_PARAMETERS),
            "patch": operation(
                "patch", "patch", patch_body, ref, [*_WRITE_PARAMETERS, _parameter("force")]
            ),
            "delete": operation(
                "delete",
                "delete",
                None,
                {"$ref": f"{_V3_REFS}{META}.Status"},
                [_parameter("gracePeriodSeconds"), _parameter("propagationPolicy")],
            ),
            "parameters": item_params,
        },
    }
    spec = rtype.version(version)
    if spec is not None and "status" in spec.subresources:
        paths[f"{scope}/{rtype.plural}/{{name}}/status"] = {
            "get": operation("get", "read", None, ref, [])
            | {"operationId": f"read{kind_word}Status"},
            "put": operation("put", "replace", json_body, ref, _WRITE_PARAMETERS)
            | {"operationId": f"replace{kind_word}Status"},
            "patch": operation("patch", "patch", patch_body, ref, _WRITE_PARAMETERS)
            | {"operationId": f"patch{kind_word}Status"},
            "parameters": item_params,
        }
    return paths


def openapi_v3_document(catalog: Catalog, group: str, version: str) -> dict[str, Any] | None:
    """The OpenAPI 3.0 document of one group-version (None when it is not served)."""
    rtypes = catalog.in_group_version(group, version)
    if not rtypes:
        return None
    schemas = shared_definitions()
    paths: dict[str, Any] = {}
    for rtype in rtypes:
        name = definition_name(rtype, version)
        schemas[name] = kind_schema(rtype, version, ref_prefix=_V3_REFS)
        schemas[f"{name}List"] = list_schema(rtype, version, ref_prefix=_V3_REFS)
        paths.update(_paths(rtype, version))
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": SERVER_VERSION},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def document_hash(document: dict[str, Any]) -> str:
    """The hash clients use to cache a document (it changes whenever the document does)."""
    raw = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha512(raw).hexdigest().upper()


def openapi_v3_index(catalog: Catalog) -> dict[str, Any]:
    """``/openapi/v3``: the path of every group-version's document, with its hash."""
    paths: dict[str, Any] = {}
    for entry in catalog.groups():
        for version in entry.versions:
            document = openapi_v3_document(catalog, entry.group, version)
            if document is None:
                continue
            relative = f"api/{version}" if not entry.group else f"apis/{entry.group}/{version}"
            paths[relative] = {
                "serverRelativeURL": f"/openapi/v3/{relative}?hash={document_hash(document)}"
            }
    return {"paths": paths}


def openapi_v2(catalog: Catalog) -> dict[str, Any]:
    """``/openapi/v2``: every kind's definition and the patch types its PATCH consumes."""
    definitions = shared_definitions()
    paths: dict[str, Any] = {}
    for rtype in catalog.types():
        for spec in rtype.versions:
            name = definition_name(rtype, spec.name)
            definitions[name] = kind_schema(rtype, spec.name, ref_prefix="#/definitions/")
            prefix = f"/api/{spec.name}" if not rtype.group else f"/apis/{rtype.group}/{spec.name}"
            scope = f"{prefix}/namespaces/{{namespace}}" if rtype.namespaced else prefix
            consumes = list(_PATCH_TYPES_CUSTOM)
            if rtype.builtin:
                consumes.append("application/strategic-merge-patch+json")
            paths[f"{scope}/{rtype.plural}/{{name}}"] = {
                "patch": {
                    "consumes": consumes,
                    "operationId": f"patch{rtype.kind}",
                    "parameters": [
                        {
                            "name": "fieldValidation",
                            "in": "query",
                            "type": "string",
                            "uniqueItems": True,
                        }
                    ],
                    "responses": {
                        "200": {"description": "OK", "schema": {"$ref": f"#/definitions/{name}"}}
                    },
                    "x-kubernetes-action": "patch",
                    "x-kubernetes-group-version-kind": {
                        "group": rtype.group,
                        "version": spec.name,
                        "kind": rtype.kind,
                    },
                }
            }
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": SERVER_VERSION},
        "paths": paths,
        "definitions": definitions,
    }
