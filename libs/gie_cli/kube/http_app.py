"""The aiohttp application: routes, errors as Status objects, discovery and OpenAPI.

Every failure is answered with a ``v1`` Status: :class:`~gie_cli.kube.status.KubeError`
carries its own; an unknown path is 404 NotFound and an unsupported method 405
MethodNotAllowed, as the real server words them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from gie_cli.kube.bodies import json_response, query_lists
from gie_cli.kube.body_limits import MAX_BODY_BYTES
from gie_cli.kube.catalog import Catalog
from gie_cli.kube.discovery import (
    AGGREGATED_CONTENT_TYPE,
    aggregated_discovery,
    api_group,
    api_group_list,
    api_versions,
    resource_list,
)
from gie_cli.kube.negotiation import negotiate
from gie_cli.kube.openapi import SERVER_VERSION, OpenApiDocuments
from gie_cli.kube.paths import not_served
from gie_cli.kube.resource_handlers import ResourceHandlers
from gie_cli.kube.status import KubeError, internal_error, method_not_allowed, not_acceptable

__all__ = ["build_app"]

_log = structlog.get_logger("gie.kube")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_DISCOVERY_FORMS = frozenset({"", "APIGroupDiscoveryList"})
_NOT_ALLOWED = "the server does not allow this method on the requested resource"


@web.middleware
async def _status_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except KubeError as error:
        return json_response(error.status, status=error.code)
    except web.HTTPNotFound:
        return json_response(not_served().status, status=404)
    except web.HTTPMethodNotAllowed:
        return json_response(method_not_allowed(_NOT_ALLOWED).status, status=405)
    except (ValueError, KeyError, TypeError) as failure:
        _log.exception("request failed", method=request.method, path=request.path)
        message = f"an error on the server has prevented the request from succeeding: {failure!r}"
        return json_response(internal_error(message).status, status=500)


def _version() -> dict[str, str]:
    major, minor, _ = SERVER_VERSION.lstrip("v").split(".")
    return {
        "major": major,
        "minor": minor,
        "emulationMajor": major,
        "emulationMinor": minor,
        "minCompatibilityMajor": major,
        "minCompatibilityMinor": str(int(minor) - 1),
        "gitVersion": SERVER_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-08-27T00:00:00Z",
        "goVersion": "go1.24.6",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


class _Routes:
    """The handlers of everything but the resources themselves."""

    def __init__(self, catalog: Catalog, resources: ResourceHandlers, server_address: str) -> None:
        self.catalog = catalog
        self.openapi = OpenApiDocuments(catalog)
        self.resources = resources
        self.server_address = server_address

    async def version(self, request: web.Request) -> web.StreamResponse:
        return json_response(_version())

    async def health(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text="ok", content_type="text/plain")

    def _discovery_root(self, request: web.Request, *, core: bool) -> web.StreamResponse:
        wanted = negotiate(request.headers.get("Accept"), allowed=_DISCOVERY_FORMS)
        if wanted.form == "APIGroupDiscoveryList":
            body = aggregated_discovery(self.catalog, core=core)
            response = json_response(body, content_type=AGGREGATED_CONTENT_TYPE)
            response.headers["Vary"] = "Accept"
            return response
        if core:
            return json_response(api_versions(self.server_address))
        return json_response(api_group_list(self.catalog))

    async def api_root(self, request: web.Request) -> web.StreamResponse:
        return self._discovery_root(request, core=True)

    async def apis_root(self, request: web.Request) -> web.StreamResponse:
        return self._discovery_root(request, core=False)

    async def group(self, request: web.Request) -> web.StreamResponse:
        body = api_group(self.catalog, request.match_info["group"])
        if body is None:
            raise not_served()
        return json_response(body)

    async def _group_version(
        self, request: web.Request, group: str, version: str, tail: str
    ) -> web.StreamResponse:
        if tail:
            return await self.resources.handle(request, group, version, tail)
        if request.method != "GET":
            raise method_not_allowed(_NOT_ALLOWED)
        body = resource_list(self.catalog, group, version)
        if body is None:
            raise not_served()
        return json_response(body)

    async def core(self, request: web.Request) -> web.StreamResponse:
        return await self._group_version(request, "", "v1", request.match_info.get("tail", ""))

    async def named(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        return await self._group_version(
            request, info["group"], info["version"], info.get("tail", "")
        )

    async def openapi_v2(self, request: web.Request) -> web.StreamResponse:
        accept = request.headers.get("Accept", "")
        if accept and "json" not in accept and "*/*" not in accept:
            raise not_acceptable("only application/json is served for /openapi/v2 (no protobuf)")
        return json_response(self.openapi.v2())

    async def openapi_v3_root(self, request: web.Request) -> web.StreamResponse:
        return json_response(self.openapi.v3_index())

    async def openapi_v3_doc(self, request: web.Request) -> web.StreamResponse:
        parts = request.match_info["tail"].split("/")
        found = None
        if parts[0] == "api" and len(parts) == 2:
            found = self.openapi.v3_document("", parts[1])
        elif parts[0] == "apis" and len(parts) == 3:
            found = self.openapi.v3_document(parts[1], parts[2])
        if found is None:
            raise not_served()
        document, digest = found
        response = json_response(document)
        response.headers["Etag"] = f'"{digest}"'
        immutable = query_lists(request).get("hash") == [digest]
        response.headers["Cache-Control"] = (
            "public, immutable" if immutable else "no-cache, private"
        )
        return response


def build_app(
    catalog: Catalog, resources: ResourceHandlers, *, server_address: str
) -> web.Application:
    """The application serving ``catalog`` through ``resources``."""
    app = web.Application(middlewares=[_status_errors], client_max_size=MAX_BODY_BYTES)
    routes = _Routes(catalog, resources, server_address)
    app.router.add_get("/version", routes.version)
    for probe in ("/healthz", "/livez", "/readyz"):
        app.router.add_get(probe, routes.health)
    app.router.add_get("/api", routes.api_root)
    app.router.add_get("/apis", routes.apis_root)
    app.router.add_get("/openapi/v2", routes.openapi_v2)
    app.router.add_get("/openapi/v3", routes.openapi_v3_root)
    app.router.add_get("/openapi/v3/{tail:.+}", routes.openapi_v3_doc)
    app.router.add_route("*", "/api/v1", routes.core)
    app.router.add_route("*", "/api/v1/{tail:.+}", routes.core)
    app.router.add_get("/apis/{group}", routes.group)
    app.router.add_route("*", "/apis/{group}/{version}", routes.named)
    app.router.add_route("*", "/apis/{group}/{version}/{tail:.+}", routes.named)
    return app
