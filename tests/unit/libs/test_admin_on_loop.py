"""The admin app reads a service's state on its event loop, never from a worker thread.

Services fold events into loop-owned state (views, caches, counters) without locks;
an ASGI framework runs a plain ``def`` handler in a thread pool, where such a read races the
fold. Every handler, the probes' checks and the collectors that ``/metrics`` calls
must therefore run on the loop thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.responses import JSONResponse

from gie.telemetry.admin import AdminApp, build_admin_app
from gie.telemetry.health import Health


class Probe:
    """Records which thread each read of the service's state ran on."""

    def __init__(self) -> None:
        self.threads: dict[str, set[int]] = {}

    def saw(self, what: str) -> None:
        self.threads.setdefault(what, set()).add(threading.get_ident())


class ProbedHealth(Health):
    def __init__(self, probe: Probe) -> None:
        self._probe = probe
        self._alive = True
        super().__init__()

    @property
    def alive(self) -> bool:
        self._probe.saw("alive")
        return self._alive

    @alive.setter
    def alive(self, value: bool) -> None:
        self._alive = value


class ProbedCollector(Collector):
    def __init__(self, probe: Probe) -> None:
        self._probe = probe

    def collect(self) -> Iterator[GaugeMetricFamily]:
        self._probe.saw("collect")
        yield GaugeMetricFamily("probe_value", "A value read from loop-owned state.", value=1)


def client_of(app: AdminApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://admin")


async def test_probes_checks_and_metrics_collection_run_on_the_loop_thread() -> None:
    probe = Probe()
    health = ProbedHealth(probe)
    health.add_check("state", lambda: probe.saw("check"))
    registry = CollectorRegistry()
    registry.register(ProbedCollector(probe))
    app = build_admin_app(service="t", health=health, registry=registry)
    probe.threads.clear()  # registering calls collect() once, here
    async with client_of(app) as client:
        for path in ("/healthz", "/readyz", "/metrics"):
            assert (await client.get(path)).status_code == 200, path
        page = (await client.get("/metrics")).text
    assert "probe_value 1.0" in page
    loop_thread = {threading.get_ident()}
    assert probe.threads == {"alive": loop_thread, "check": loop_thread, "collect": loop_thread}


async def test_a_route_added_later_runs_on_the_loop_thread() -> None:
    probe = Probe()
    app = build_admin_app(service="t", health=Health(), registry=CollectorRegistry())

    @app.get("/debug/state")
    async def state() -> JSONResponse:
        probe.saw("route")
        return JSONResponse({})

    async with client_of(app) as client:
        assert (await client.get("/debug/state")).status_code == 200
    assert probe.threads == {"route": {threading.get_ident()}}


def test_a_plain_def_route_is_refused_where_it_is_declared() -> None:
    app = build_admin_app(service="t", health=Health(), registry=CollectorRegistry())
    with pytest.raises(TypeError, match=r"/debug/state.*async def"):

        @app.get("/debug/state")
        def state() -> JSONResponse:  # would run in a worker thread
            return JSONResponse({})
