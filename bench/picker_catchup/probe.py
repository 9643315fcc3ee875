"""Watch a starting picker: when it answers ready, when its view is whole."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from gie.bus import EVENTS, STATE, Deliver, NatsEventBus
from gie.events import Event
from gie.events.subjects import pool_filter, pool_prefix
from gie.view import InFlightView, PoolView


@dataclass(frozen=True, slots=True)
class Fold:
    """The digests a fresh replica reaches."""

    view: str
    in_flight: str
    endpoints: int


@dataclass(slots=True)
class Watched:
    ready_s: float | None = None
    whole_s: float | None = None
    whole_at_ready: bool | None = None
    at_ready: str = ""  # the view at the first ready answer, in short
    last_view: dict[str, Any] | None = None


async def fresh_fold(nats_url: str, pool: str, *, endpoints: int, routing: int) -> Fold:
    """Fold the streams into a new view and in-flight view, counting the events in."""
    view, inflight = PoolView(pool), InFlightView(pool)
    got = {"routing": 0}

    def on_routing(event: Event) -> None:
        inflight.apply(event)
        got["routing"] += 1

    async with NatsEventBus(nats_url, name="bench-picker-catchup-fold") as bus:
        routing_filter = f"{pool_prefix(pool)}.routing.>"
        followings = [
            await bus.follow(
                STATE, pool_filter(pool), view.apply, deliver=Deliver.LAST_PER_SUBJECT
            ),
            await bus.follow(EVENTS, routing_filter, on_routing, deliver=Deliver.ALL),
        ]
        deadline = time.monotonic() + 120
        while len(view) < endpoints or got["routing"] < routing:
            if time.monotonic() > deadline:
                raise RuntimeError(f"fold stuck at {len(view)} endpoints, {got['routing']} events")
            await asyncio.sleep(0.05)
        for following in followings:
            await following.stop()
    return Fold(view=view.digest(), in_flight=inflight.digest(), endpoints=len(view))


def _whole(body: dict[str, Any], fold: Fold) -> bool:
    in_flight = body.get("in_flight") or {}
    return bool(body.get("digest") == fold.view and in_flight.get("digest") == fold.in_flight)


def _short(body: dict[str, Any]) -> str:
    endpoints = body.get("saturation", {}).get("endpoints_total")
    in_flight = (body.get("in_flight") or {}).get("requests")
    return f"{endpoints} endpoints, {in_flight} in flight"


async def watch(admin_port: int, fold: Fold, started: float, *, timeout_s: float) -> Watched:
    """Poll ``/readyz`` every 10 ms and ``/debug/view`` every 100 ms (and at the first
    ready answer) until the picker is ready and its view whole, or ``timeout_s``."""
    base = f"http://127.0.0.1:{admin_port}"
    seen = Watched()
    next_view = 0.0
    async with httpx.AsyncClient(trust_env=False, timeout=5.0) as client:
        while time.monotonic() - started < timeout_s:
            now = time.monotonic()
            try:
                if seen.ready_s is None:
                    ready = (await client.get(f"{base}/readyz")).status_code == 200
                    if ready:
                        seen.ready_s = now - started
                        body = (await client.get(f"{base}/debug/view")).json()
                        seen.whole_at_ready = _whole(body, fold)
                        seen.at_ready = _short(body)
                if seen.whole_s is None and now >= next_view:
                    next_view = now + 0.1
                    body = (await client.get(f"{base}/debug/view")).json()
                    seen.last_view = body
                    if _whole(body, fold):
                        seen.whole_s = time.monotonic() - started
            except httpx.HTTPError:
                pass  # not listening yet
            if seen.ready_s is not None and seen.whole_s is not None:
                return seen
            await asyncio.sleep(0.01)
    return seen
