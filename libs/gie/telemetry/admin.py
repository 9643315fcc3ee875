"""The admin HTTP app every service serves: /healthz, /readyz, /metrics.

It runs on the service's own event loop under uvicorn, without uvicorn's
signal handling (the service owns shutdown).

Concurrency: every handler runs on that loop. Services fold events into loop-owned
state without locks (views and their caches, loop metrics), and FastAPI would run a
plain ``def`` handler in a worker thread, racing those folds; so the app refuses a
route that is not ``async def`` where it is declared (TypeError). ``/readyz`` calls
the health checks and ``/metrics`` the registry's collectors on the loop too: both
MUST be cheap and MUST NOT block.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable, Generator
from typing import Any

import uvicorn
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from gie.telemetry.health import Health

_TICK_S = 1.0


class _LoopRoute(APIRoute):
    """A route whose handler runs on the event loop: ``async def`` only."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError(
                f"admin route {path} must be declared `async def`: a plain `def` handler "
                "runs in a worker thread and would read loop-owned state off the loop"
            )
        super().__init__(path, endpoint, **options)


def build_admin_app(*, service: str, health: Health, registry: CollectorRegistry) -> FastAPI:
    """A FastAPI app with the probes and the Prometheus page; add ``async def`` routes
    to it freely (each runs on the service's loop)."""
    app = FastAPI(title=f"gie {service} admin", docs_url=None, redoc_url=None)
    app.router.route_class = _LoopRoute

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        alive = health.alive
        return JSONResponse({"alive": alive}, status_code=200 if alive else 503)

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        failing = health.failing()
        ready = health.alive and not failing
        return JSONResponse({"ready": ready, "failing": failing}, status_code=200 if ready else 503)

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


class _Server(uvicorn.Server):
    """uvicorn's server, ticking once a second instead of ten times a second (each
    wake-up of an otherwise idle process costs more than the tick's work) and woken
    at once when told to stop."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.wake = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the service handles signals itself

    async def main_loop(self) -> None:
        # on_tick(0) does what uvicorn does every tenth tick: the Date header, exit check.
        while not await self.on_tick(0):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), _TICK_S)


class AdminServer:
    """Serves an ASGI app on host:port as a task of the running loop."""

    def __init__(self, app: FastAPI, *, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises the bind error
                raise RuntimeError("admin server stopped during start-up")
            await asyncio.sleep(0.01)

    @property
    def port(self) -> int:
        servers = self._server.servers
        return int(servers[0].sockets[0].getsockname()[1]) if servers else 0

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        self._server.wake.set()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
