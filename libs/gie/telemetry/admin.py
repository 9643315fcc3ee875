"""The admin HTTP app every service serves: /healthz, /readyz, /metrics.

It runs on the service's own event loop under uvicorn, without uvicorn's
signal handling (the service owns shutdown). The app is a small Starlette one
(:class:`AdminApp`, GET routes only): it is up before a service replays its
streams, so its import is part of every start-up, and FastAPI's would add a fifth
of a second of CPU to it for nothing these routes use.

Concurrency: every handler runs on that loop. Services fold events into loop-owned
state without locks (views and their caches, loop metrics), and a plain ``def``
handler would run in a worker thread, racing those folds; so the app refuses a
route that is not ``async def`` where it is declared (TypeError). ``/readyz`` calls
the health checks and ``/metrics`` the registry's collectors on the loop too: both
MUST be cheap and MUST NOT block.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable, Generator
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from gie.telemetry.health import Health

_TICK_S = 1.0


Handler = Callable[[], Awaitable[Any]]


async def _error(request: Request, exc: Exception) -> Response:
    """An HTTP error (404, 405) as JSON ``{"detail": ...}``."""
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


class AdminApp:
    """An ASGI app of GET routes whose handlers run on the event loop.

    A handler takes no argument and returns a :class:`Response`, or a value that
    is sent as JSON. Unknown paths answer 404 and other methods 405, with a JSON
    ``detail``.
    """

    def __init__(self, title: str) -> None:
        self.title = title
        self._app = Starlette(exception_handlers={HTTPException: _error})

    def get(self, path: str) -> Callable[[Handler], Handler]:
        """Decorator: serve GET ``path`` with an ``async def`` handler (TypeError
        for a plain ``def``: it would run in a worker thread and read loop-owned
        state off the loop)."""

        def register(handler: Handler) -> Handler:
            if not inspect.iscoroutinefunction(handler):
                raise TypeError(
                    f"admin route {path} must be declared `async def`: a plain `def` handler "
                    "runs in a worker thread and would read loop-owned state off the loop"
                )

            async def endpoint(request: Request) -> Response:
                answer = await handler()
                return answer if isinstance(answer, Response) else JSONResponse(answer)

            self._app.router.routes.append(Route(path, endpoint, methods=["GET"]))
            return handler

        return register

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def build_admin_app(*, service: str, health: Health, registry: CollectorRegistry) -> AdminApp:
    """An app with the probes and the Prometheus page; add ``async def`` routes
    to it freely (each runs on the service's loop)."""
    app = AdminApp(f"gie {service} admin")

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

    def __init__(self, app: AdminApp, *, host: str, port: int) -> None:
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
