"""A running picker reads its view on its event loop when serving the admin pages.

``PoolView.endpoints()`` fills a cache that ``apply()`` (on the loop) clears: read from
a worker thread it could store a list computed before an event and leave routing on
it. ``/debug/view`` and ``/metrics`` (the pool gauges are computed from the view at
scrape time) must run on the loop.
"""

from __future__ import annotations

import threading
import uuid

import httpx
import pytest

from gie.bus import NatsEventBus
from gie.events import EndpointMetrics
from gie.view import EndpointState, PoolView
from gie_picker.app import run
from tests.support.pickers import publish_endpoints, publish_metrics, replica_settings
from tests.support.running import service, wait_ready

pytestmark = pytest.mark.integration


async def test_debug_view_and_metrics_read_the_view_on_the_loop_thread(
    nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    readers: list[int] = []
    endpoints = PoolView.endpoints

    def probed(view: PoolView) -> list[EndpointState]:
        readers.append(threading.get_ident())
        return endpoints(view)

    monkeypatch.setattr(PoolView, "endpoints", probed)
    pool = f"admin-loop/{uuid.uuid4().hex[:8]}"
    settings = replica_settings(nats_url, pool, "picker-0")
    address = "10.7.0.1:8000"
    async with NatsEventBus(nats_url, name="feeder") as bus:
        await bus.ensure_streams()
        await publish_endpoints(bus, pool, [address])
        metrics = EndpointMetrics(waiting_queue_size=3, running_requests=1, kv_cache_usage=0.2)
        await publish_metrics(bus, pool, address, metrics)
        async with service(lambda stop: run(settings, stop)):
            await wait_ready(settings.admin_port)
            readers.clear()
            base = f"http://127.0.0.1:{settings.admin_port}"
            async with httpx.AsyncClient(trust_env=False, base_url=base) as client:
                view = (await client.get("/debug/view")).json()
                page = (await client.get("/metrics")).text
    assert [e["address"] for e in view["endpoints"]] == [address]
    assert f'model_server_pod="{address}"' in page
    assert len(readers) >= 2  # one read per page at least
    assert set(readers) == {threading.get_ident()}  # the loop's thread, every time
