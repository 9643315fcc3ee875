"""The admin HTTP app every service serves: /healthz, /readyz, /metrics.

It runs on the service's own event loop under uvicorn, without uvicorn's
signal handling (the service owns shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator

import uvicorn
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from gie.telemetry.health import Health

_TICK_S = 1.0


def build_admin_app(*, service: str, health: Health, registry: CollectorRegistry) -> FastAPI:
    """A FastAPI app with the probes and the Prometheus page; add routes to it freely."""
    app = FastAPI(title=f"gie {service} admin", docs_url=None, redoc_url=None)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        status = 200 if health.alive else 503
        return JSONResponse({"alive": health.alive}, status_code=status)

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        failing = health.failing()
        ready = health.alive and not failing
        return JSONResponse({"ready": ready, "failing": failing}, status_code=200 if ready else 503)

    @app.get("/metrics")
    def metrics() -> Response:
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
