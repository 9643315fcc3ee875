"""Watch a starting picker: when it answers ready, when its view is whole."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path
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
    ready_cpu_s: float | None = None  # the picker's CPU time at the first ready answer


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


async def watch(
    admin_port: int, pid: int, fold: Fold, started: float, *, timeout_s: float
) -> Watched:
    """Poll ``/readyz`` every 10 ms; at the first ready answer read ``/debug/view``,
    and when it is not whole yet, read it again every 100 ms until it is (or
    ``timeout_s``). The view is not read before: rendering it costs the picker time."""
    base = f"http://127.0.0.1:{admin_port}"
    seen = Watched()
    async with httpx.AsyncClient(trust_env=False, timeout=5.0) as client:
        while time.monotonic() - started < timeout_s:
            try:
                if seen.ready_s is None:
                    if (await client.get(f"{base}/readyz")).status_code != 200:
                        await asyncio.sleep(0.01)
                        continue
                    seen.ready_s = time.monotonic() - started
                    seen.ready_cpu_s = cpu_seconds(pid)
                body = (await client.get(f"{base}/debug/view")).json()
                seen.last_view = body
                whole = _whole(body, fold)
                if seen.whole_at_ready is None:
                    seen.whole_at_ready = whole
                    seen.at_ready = _short(body)
                if whole:  # whole at the ready answer: at the latest then
                    elapsed = time.monotonic() - started
                    seen.whole_s = seen.ready_s if seen.whole_at_ready else elapsed
                    return seen
            except httpx.HTTPError:
                pass  # not listening yet
            await asyncio.sleep(0.1)
    return seen


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time a process has used so far (None where /proc is not)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
