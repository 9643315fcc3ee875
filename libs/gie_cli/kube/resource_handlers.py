"""The resource endpoints: get, list, watch, create, update, patch, delete,
deletecollection, and the ``status`` subresource, in the form the client accepts."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from gie_cli.kube.bodies import add_warning, json_response, parse_bool, query_lists, read_body
from gie_cli.kube.deletion import Deletions
from gie_cli.kube.lists import ListRequest, list_objects
from gie_cli.kube.negotiation import Wanted, negotiate
from gie_cli.kube.objects import Obj
from gie_cli.kube.paths import ResourcePath, resolve
from gie_cli.kube.registry import Registry
from gie_cli.kube.resource_types import api_version
from gie_cli.kube.selectors import (
    COMMON_FIELDS,
    NAMESPACE_FIELDS,
    POD_FIELDS,
    FieldSelector,
    LabelSelector,
    Selector,
)
from gie_cli.kube.status import method_not_allowed
from gie_cli.kube.tables import to_table
from gie_cli.kube.targets import DeleteOptions, Target, WriteOptions
from gie_cli.kube.watch_stream import WatchRequest, run_watch

__all__ = ["ResourceHandlers"]

_OBJECT_FORMS = frozenset({"", "Table", "PartialObjectMetadata"})
_LIST_FORMS = frozenset({"", "Table", "PartialObjectMetadataList"})
_NOT_ALLOWED = "the server does not allow this method on the requested resource"


def _selector(target: Target, query: dict[str, list[str]]) -> Selector:
    fields: tuple[str, ...] = COMMON_FIELDS
    if target.rtype.key == ("", "pods"):
        fields = COMMON_FIELDS + POD_FIELDS
    elif target.rtype.key == ("", "namespaces"):
        fields = COMMON_FIELDS + NAMESPACE_FIELDS
    return Selector(
        LabelSelector.parse((query.get("labelSelector") or [""])[-1]),
        FieldSelector.parse((query.get("fieldSelector") or [""])[-1], fields),
    )


def deprecation_warning(target: Target) -> str:
    """What the server warns about a deprecated version ("" when it is not deprecated)."""
    rtype, spec = target.rtype, target.rtype.version(target.version)
    if spec is None or not spec.deprecated:
        return ""
    if spec.deprecation_warning:
        return spec.deprecation_warning
    warning = f"{target.api_version} {rtype.kind} is deprecated"
    newer = next((v.name for v in rtype.versions if not v.deprecated), None)
    if newer is not None:
        warning += f"; use {api_version(rtype.group, newer)} {rtype.kind}"
    return warning


def _partial(obj: Obj) -> Obj:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj["metadata"],
    }


class ResourceHandlers:
    """aiohttp handlers for everything below ``/api/v1`` and ``/apis/<group>/<version>``."""

    def __init__(
        self,
        registry: Registry,
        deletions: Deletions,
        *,
        bookmark_interval: float,
        max_watch_seconds: float,
    ) -> None:
        self.registry = registry
        self.deletions = deletions
        self.bookmark_interval = bookmark_interval
        self.max_watch_seconds = max_watch_seconds

    async def handle(
        self, request: web.Request, group: str, version: str, tail: str
    ) -> web.StreamResponse:
        path = resolve(self.registry.catalog, group, version, tail.split("/"))
        query = query_lists(request)
        if path.collection:
            response = await self._collection(request, path, query)
        else:
            response = await self._item(request, path.target, query)
        warning = deprecation_warning(path.target)
        if warning and not response.prepared:
            add_warning(response, warning)
        return response

    async def _collection(
        self, request: web.Request, path: ResourcePath, query: dict[str, list[str]]
    ) -> web.StreamResponse:
        target = path.target
        if request.method == "GET":
            wanted = negotiate(request.headers.get("Accept"), allowed=_LIST_FORMS)
            if parse_bool((query.get("watch") or [""])[-1], "watch"):
                return await self._watch(request, target, query, wanted)
            return self._list(target, query, wanted)
        if request.method == "POST" and (
            target.namespace is not None or not target.rtype.namespaced
        ):
            body = await read_body(request)
            result = self.registry.create(target, body, WriteOptions.parse(query))
            return self._object_response(
                request, target, result.obj, status=201, warnings=result.warnings
            )
        if request.method == "DELETE":
            body = await read_body(request, required=False)
            deleted = self.deletions.delete_collection(
                target, _selector(target, query), DeleteOptions.parse(query, body)
            )
            listed = {
                "kind": target.rtype.list_kind_name,
                "apiVersion": target.api_version,
                "metadata": {},
                "items": deleted,
            }
            return json_response(listed)
        raise method_not_allowed(_NOT_ALLOWED)

    async def _item(
        self, request: web.Request, target: Target, query: dict[str, list[str]]
    ) -> web.StreamResponse:
        method = request.method
        if method == "GET":
            return self._object_response(request, target, self.registry.get(target))
        if method == "PUT":
            body = await read_body(request)
            result = self.registry.update(target, body, WriteOptions.parse(query))
            return self._object_response(request, target, result.obj, warnings=result.warnings)
        if method == "PATCH":
            raw = await request.read()
            content_type = (request.content_type or "").lower()
            result = self.registry.patch(target, content_type, raw, WriteOptions.parse(query))
            return self._object_response(request, target, result.obj, warnings=result.warnings)
        if method == "DELETE" and not target.subresource:
            body = await read_body(request, required=False)
            answer = self.deletions.delete(target, DeleteOptions.parse(query, body))
            if answer.get("kind") == "Status":
                return json_response(answer)
            return self._object_response(request, target, answer)
        raise method_not_allowed(_NOT_ALLOWED)

    def _object_response(
        self,
        request: web.Request,
        target: Target,
        obj: Obj,
        *,
        status: int = 200,
        warnings: list[str] | None = None,
    ) -> web.Response:
        wanted = negotiate(request.headers.get("Accept"), allowed=_OBJECT_FORMS)
        body: Any = obj
        if wanted.form == "Table":
            body = self._row(target, obj, _include_object(query_lists(request)), wanted)
        elif wanted.form == "PartialObjectMetadata":
            body = _partial(obj)
        return json_response(body, status=status, warnings=warnings)

    def _row(self, target: Target, obj: Obj, include: str, wanted: Wanted) -> Obj:
        """One object as a Table of one row (a get or a watch event, as kubectl asks)."""
        return to_table(
            target.rtype,
            target.version,
            [obj],
            resource_version=obj["metadata"].get("resourceVersion", ""),
            include_object=include,
            now=self.registry.clock.now(),
            table_version=wanted.version,
        )

    def _list(self, target: Target, query: dict[str, list[str]], wanted: Wanted) -> web.Response:
        listed = list_objects(
            self.registry, target, ListRequest.parse(query, _selector(target, query))
        )
        metadata = listed["metadata"]
        if wanted.form == "Table":
            include = _include_object(query)
            table = to_table(
                target.rtype,
                target.version,
                listed["items"],
                resource_version=metadata["resourceVersion"],
                include_object=include,
                now=self.registry.clock.now(),
                table_version=wanted.version,
                continue_token=metadata.get("continue", ""),
            )
            return json_response(table)
        if wanted.form == "PartialObjectMetadataList":
            items = [_partial(obj) for obj in listed["items"]]
            return json_response(
                {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": metadata,
                    "items": items,
                }
            )
        if target.rtype.builtin:
            listed["items"] = [
                {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
                for obj in listed["items"]
            ]
        return json_response(listed)

    async def _watch(
        self, request: web.Request, target: Target, query: dict[str, list[str]], wanted: Wanted
    ) -> web.StreamResponse:
        watch = WatchRequest.parse(query, _selector(target, query))
        include = _include_object(query)
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        warning = deprecation_warning(target)
        if warning:
            add_warning(response, warning)
        await response.prepare(request)

        def transform(obj: Obj) -> Obj:
            if wanted.form == "Table":
                return self._row(target, obj, include, wanted)
            if wanted.form == "PartialObjectMetadataList":
                return _partial(obj)
            return obj

        async def write(event: dict[str, Any]) -> None:
            await response.write(json.dumps(event, separators=(",", ":")).encode() + b"\n")

        try:
            await run_watch(
                self.registry,
                target,
                watch,
                write=write,
                transform=transform,
                bookmark_interval=self.bookmark_interval,
                max_seconds=self.max_watch_seconds,
            )
        except ConnectionResetError:
            return response
        await response.write_eof()
        return response


def _include_object(query: dict[str, list[str]]) -> str:
    """What a Table row carries of its object (``includeObject``; default Metadata)."""
    return (query.get("includeObject") or ["Metadata"])[-1]
