"""A picker that starts on a pool with a long history answers ready only once its
view holds all of it: never while it subscribes, never on a partial pool."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import httpx
import pytest

from bench.picker_catchup.probe import Fold, fresh_fold
from bench.picker_catchup.seed import seed
from gie_picker.app import run
from tests.support.pickers import replica_settings
from tests.support.running import service

pytestmark = pytest.mark.integration

ENDPOINTS = 2000
ROUTING_EVENTS = 20_000


async def _first_ready_view(admin_port: int, timeout_s: float = 60.0) -> dict[str, object]:
    """Poll ``/readyz`` back to back; the ``/debug/view`` read right after the first
    ready answer."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(trust_env=False, timeout=10.0) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"http://127.0.0.1:{admin_port}/readyz")).status_code == 200:
                    answer = await client.get(f"http://127.0.0.1:{admin_port}/debug/view")
                    if answer.status_code != 200:  # ready before its admin routes exist
                        return {"debug/view status": answer.status_code}
                    view: dict[str, object] = answer.json()
                    return view
            await asyncio.sleep(0.002)
    raise AssertionError("the picker never answered ready")


def _summary(view: dict[str, object], fold: Fold) -> dict[str, object]:
    saturation = view.get("saturation") or {}
    in_flight = view.get("in_flight") or {}
    assert isinstance(saturation, dict) and isinstance(in_flight, dict)
    return {
        "endpoints": saturation.get("endpoints_total"),
        "view digest equal": view.get("digest") == fold.view,
        "in-flight digest equal": in_flight.get("digest") == fold.in_flight,
    }


@pytest.mark.parametrize("batch", [64, 1])
async def test_ready_only_with_the_whole_view(nats_url: str, batch: int) -> None:
    pool = f"startup/{uuid.uuid4().hex[:8]}"
    routing = ROUTING_EVENTS if batch > 1 else ROUTING_EVENTS // 10
    seeded = await seed(nats_url, pool, endpoints=ENDPOINTS, routing=routing, batch=batch)
    fold = await fresh_fold(nats_url, pool, endpoints=ENDPOINTS, routing=seeded.routing_events)
    settings = replica_settings(nats_url, pool, "late-joiner", prefix_snapshot_interval_s=0)
    async with service(lambda stop: run(settings, stop)):
        view = await _first_ready_view(settings.admin_port)
    assert _summary(view, fold) == {
        "endpoints": ENDPOINTS,
        "view digest equal": True,
        "in-flight digest equal": True,
    }
