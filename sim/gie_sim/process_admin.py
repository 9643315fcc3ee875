"""The process's admin listener (``gie-sim --admin HOST:PORT``): every server's faults.

A server that refuses connections cannot be reached on its own address to heal it, so
a process can serve its servers' controls on one more address:

* ``GET /sim/servers`` -> ``{"servers": [{"address", "api_faults", "faults"}, ...]}``;
* ``GET`` / ``POST /sim/servers/{address}/api-faults`` -- as the server's own
  ``/sim/api-faults`` (:mod:`gie_sim.api_faults`);
* ``GET`` / ``POST /sim/servers/{address}/faults`` -- as its ``/sim/faults``.

Unknown addresses get 404 and invalid bodies 400, in the OpenAI error shape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import orjson
from aiohttp import web

from gie_sim.admin_api import read_body, reply
from gie_sim.api_faults import ApiFaults
from gie_sim.faults import Faults
from gie_sim.http_site import serve
from gie_sim.openai_api import ApiError
from gie_sim.server import SimServer, format_address

__all__ = ["ProcessAdmin"]

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ProcessAdmin:
    """An HTTP listener controlling ``servers``; ``await start()`` / ``await stop()``."""

    def __init__(self, servers: Sequence[SimServer], *, host: str, port: int) -> None:
        self._servers = {server.address: server for server in servers}
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def address(self) -> str:
        return format_address(self.host, self.port)

    async def start(self) -> None:
        app = web.Application(middlewares=[_errors])
        app.router.add_get("/sim/servers", self._list)
        app.router.add_get("/sim/servers/{address}/api-faults", self._get_api_faults)
        app.router.add_post("/sim/servers/{address}/api-faults", self._set_api_faults)
        app.router.add_get("/sim/servers/{address}/faults", self._get_faults)
        app.router.add_post("/sim/servers/{address}/faults", self._set_faults)
        self._runner, _site, self.port = await serve(
            app, self.host, self.port, shutdown_timeout=1.0
        )

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    def _server(self, request: web.Request) -> SimServer:
        address = request.match_info["address"]
        server = self._servers.get(address)
        if server is None:
            raise ApiError(404, f"no server {address!r} in this process", "address")
        return server

    async def _list(self, _request: web.Request) -> web.Response:
        servers = [
            {
                "address": address,
                "api_faults": server.api_faults.model_dump(mode="json"),
                "faults": server.faults.model_dump(mode="json"),
            }
            for address, server in self._servers.items()
        ]
        return web.Response(
            body=orjson.dumps({"servers": servers}), content_type="application/json"
        )

    async def _get_api_faults(self, request: web.Request) -> web.Response:
        return reply(self._server(request).api_faults)

    async def _set_api_faults(self, request: web.Request) -> web.Response:
        server = self._server(request)
        await server.set_api_faults(await read_body(request, ApiFaults))
        return reply(server.api_faults)

    async def _get_faults(self, request: web.Request) -> web.Response:
        return reply(self._server(request).faults)

    async def _set_faults(self, request: web.Request) -> web.Response:
        server = self._server(request)
        server.faults = await read_body(request, Faults)
        return reply(server.faults)


@web.middleware
async def _errors(request: web.Request, handler: _Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return web.Response(
            body=orjson.dumps(exc.body()), status=exc.status, content_type="application/json"
        )
