"""The OpenAPI operations of one resource: list, create, deletecollection, get, replace,
patch, delete, and those of its ``status`` subresource.

Every operation names its kind (``x-kubernetes-group-version-kind``) and action
(``x-kubernetes-action``). PATCH lists the ``fieldValidation`` query parameter (kubectl
then validates through the server) and the patch media types the resource accepts;
built-in kinds do not advertise strategic merge in OpenAPI v3 (their schemas here carry
no patch metadata), so kubectl computes their patches from its compiled-in types.
"""

from __future__ import annotations

from typing import Any

from gie_cli.kube.openapi_schemas import META, definition_name
from gie_cli.kube.resource_types import ResourceType

__all__ = ["PATCH_TYPES", "V3_REFS", "resource_paths"]

V3_REFS = "#/components/schemas/"
PATCH_TYPES = ["application/json-patch+json", "application/merge-patch+json"]
_LIST_PARAMETERS = (
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
    _parameter("dryRun", description="When present, modifications are not persisted."),
    _parameter("fieldManager", description="The name of the actor making these changes."),
    _parameter(
        "fieldValidation",
        description=(
            "How the server handles objects in the request containing unknown or duplicate "
            "fields. Valid values are: Ignore, Warn, Strict."
        ),
    ),
]


class _Operations:
    """Builds the operations of one resource in one version."""

    def __init__(self, rtype: ResourceType, version: str) -> None:
        self.rtype = rtype
        self.gvk = {"group": rtype.group, "version": version, "kind": rtype.kind}
        name = definition_name(rtype, version)
        self.ref = {"$ref": f"{V3_REFS}{name}"}
        self.list_ref = {"$ref": f"{V3_REFS}{name}List"}
        self.status_ref = {"$ref": f"{V3_REFS}{META}.Status"}
        self.json_body = {"content": {"*/*": {"schema": self.ref}}, "required": True}
        patch = {"schema": {"$ref": f"{V3_REFS}{META}.Patch"}}
        self.patch_body = {"content": dict.fromkeys(PATCH_TYPES, patch), "required": True}

    def make(
        self,
        action: str,
        operation_id: str,
        result: dict[str, Any],
        parameters: list[dict[str, Any]],
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        operation: dict[str, Any] = {
            "description": f"{action} {self.rtype.kind}",
            "operationId": operation_id,
            "parameters": parameters,
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": result}}}
            },
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": self.gvk,
        }
        if body is not None:
            operation["requestBody"] = body
        return operation


def resource_paths(rtype: ResourceType, version: str) -> dict[str, Any]:
    """The OpenAPI v3 path items of ``rtype`` in ``version``."""
    prefix = f"/api/{version}" if not rtype.group else f"/apis/{rtype.group}/{version}"
    scope = f"{prefix}/namespaces/{{namespace}}" if rtype.namespaced else prefix
    ops, kind = _Operations(rtype, version), rtype.kind
    namespace = [_parameter("namespace", "path")] if rtype.namespaced else []
    item_parameters = [_parameter("name", "path"), *namespace]
    paths: dict[str, Any] = {
        f"{scope}/{rtype.plural}": {
            "get": ops.make(
                "list", f"list{kind}", ops.list_ref, list(map(_parameter, _LIST_PARAMETERS))
            ),
            "post": ops.make("post", f"create{kind}", ops.ref, _WRITE_PARAMETERS, ops.json_body),
            "delete": ops.make("deletecollection", f"deleteCollection{kind}", ops.status_ref, []),
            "parameters": namespace,
        },
        f"{scope}/{rtype.plural}/{{name}}": {
            "get": ops.make("get", f"read{kind}", ops.ref, []),
            "put": ops.make("put", f"replace{kind}", ops.ref, _WRITE_PARAMETERS, ops.json_body),
            "patch": ops.make(
                "patch",
                f"patch{kind}",
                ops.ref,
                [*_WRITE_PARAMETERS, _parameter("force")],
                ops.patch_body,
            ),
            "delete": ops.make(
                "delete",
                f"delete{kind}",
                ops.status_ref,
                [_parameter("gracePeriodSeconds"), _parameter("propagationPolicy")],
            ),
            "parameters": item_parameters,
        },
    }
    if rtype.has_status_subresource(version):
        paths[f"{scope}/{rtype.plural}/{{name}}/status"] = {
            "get": ops.make("get", f"read{kind}Status", ops.ref, []),
            "put": ops.make(
                "put", f"replace{kind}Status", ops.ref, _WRITE_PARAMETERS, ops.json_body
            ),
            "patch": ops.make(
                "patch", f"patch{kind}Status", ops.ref, _WRITE_PARAMETERS, ops.patch_body
            ),
            "parameters": item_parameters,
        }
    return paths
