"""Two collector processes split a pool's endpoints; the survivor takes over a killed one.

The collectors are real processes (``python -m gie_metrics_collector``) on real NATS, so
the victim can be killed with SIGKILL: no goodbye, its membership key just stops being
refreshed. Which replica scrapes an endpoint is visible on the bus: the ``source`` of the
endpoint's latest ``EndpointMetricsObserved``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from gie.bus import STATE, Deliver, NatsEventBus
from gie.clock import SystemClock
from gie.events import Endpoint, EndpointMetricsObserved, EndpointUpserted, Event
from gie.events.subjects import endpoint_subject, pool_filter
from gie_cli.devstack.ports import free_port
from gie_metrics_collector.ha import KvMembership
from gie_sim import SimConfig, run_servers

pytestmark = pytest.mark.integration

HEARTBEAT_S = 0.5
ENDPOINTS = 8


@contextlib.contextmanager
def collector_process(
    name: str,
    *,
    nats_url: str,
    pool: str,
    bucket: str,
    logs: Path,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    env = {
        **os.environ,
        "GIE_NATS_URL": nats_url,
        "GIE_POOL": pool,
        "GIE_INSTANCE_ID": name,
        "GIE_ADMIN_PORT": str(port),
        "GIE_MEMBERSHIP_BUCKET": bucket,
        "GIE_MEMBERSHIP_HEARTBEAT_S": str(HEARTBEAT_S),
        "GIE_LOG_FORMAT": "json",
        **(extra_env or {}),
    }
    with (logs / f"{name}.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gie_metrics_collector"], env=env, stdout=log, stderr=log
        )
        try:
            yield proc, port
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)


async def debug(http: httpx.AsyncClient, port: int) -> dict[str, Any] | None:
    with contextlib.suppress(httpx.HTTPError):
        response = await http.get(f"http://127.0.0.1:{port}/debug/collector")
        if response.status_code == 200:
            body: dict[str, Any] = response.json()
            return body
    return None


async def wait_until(
    check: Callable[[], bool | Awaitable[bool]], what: str, timeout_s: float = 20.0
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        outcome = check()
        if await outcome if inspect.isawaitable(outcome) else outcome:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {timeout_s}s: {what}")


async def test_two_collectors_split_the_endpoints_and_the_survivor_takes_over(
    nats_url: str, tmp_path: Path
) -> None:
    pool = f"it/ha-{uuid.uuid4().hex[:8]}"
    bucket = f"it-ha-{pool[-8:]}"
    latest_source: dict[str, str] = {}

    def on_event(event: Event) -> None:
        if isinstance(event, EndpointMetricsObserved):
            latest_source[event.address] = event.source

    async with (
        run_servers(count=ENDPOINTS, config=SimConfig(time_scale=0.0)) as sims,
        NatsEventBus(nats_url, name="it-ha-observer") as bus,
        httpx.AsyncClient(timeout=2) as http,
    ):
        addresses = {sim.address for sim in sims}
        await bus.ensure_streams()
        for address in sorted(addresses):
            await bus.publish(
                endpoint_subject(pool, address),
                EndpointUpserted(source="it", pool=pool, endpoint=Endpoint(address=address)),
            )
        with (
            collector_process(
                "ha-a", nats_url=nats_url, pool=pool, bucket=bucket, logs=tmp_path
            ) as (_, port_a),
            collector_process(
                "ha-b", nats_url=nats_url, pool=pool, bucket=bucket, logs=tmp_path
            ) as (victim, port_b),
        ):

            async def split() -> bool:
                a, b = await debug(http, port_a), await debug(http, port_b)
                if a is None or b is None or len(a["members"]) != 2 or len(b["members"]) != 2:
                    return False
                mine = {r["address"] for r in a["scraped"]}
                theirs = {r["address"] for r in b["scraped"]}
                return (
                    bool(mine) and bool(theirs) and not mine & theirs and mine | theirs == addresses
                )

            await wait_until(split, "both replicas up and splitting the endpoints")
            await bus.follow(STATE, pool_filter(pool), on_event, deliver=Deliver.NEW)
            await wait_until(
                lambda: set(latest_source) == addresses,
                "metrics of every endpoint on the bus",
            )
            assert set(latest_source.values()) == {"ha-a", "ha-b"}

            victim.kill()  # SIGKILL: no graceful leave
            killed_at = time.monotonic()

            async def survivor_has_all() -> bool:
                a = await debug(http, port_a)
                return a is not None and {r["address"] for r in a["scraped"]} == addresses

            await wait_until(survivor_has_all, "the survivor scrapes every endpoint", 10.0)
            takeover_s = time.monotonic() - killed_at
            print(f"takeover after SIGKILL: {takeover_s:.3f}s (heartbeat {HEARTBEAT_S}s)")
            assert takeover_s <= 2 * HEARTBEAT_S

            latest_source.clear()
            await wait_until(
                lambda: set(latest_source) == addresses,
                "fresh metrics of every endpoint",
            )
            assert set(latest_source.values()) == {"ha-a"}


async def test_a_replica_that_stops_cleanly_hands_over_at_once(nats_url: str) -> None:
    pool, bucket = f"it/leave-{uuid.uuid4().hex[:8]}", f"it-leave-{uuid.uuid4().hex[:8]}"

    def member(name: str) -> KvMembership:
        return KvMembership(
            nats_url=nats_url,
            bucket=bucket,
            pool=pool,
            me=name,
            heartbeat_s=2.0,  # long: a handover faster than it proves the key was deleted
            clock=SystemClock(),
        )

    changes: list[tuple[float, frozenset[str]]] = []
    async with member("stays") as stays:
        stays.on_change(lambda members: changes.append((time.monotonic(), members)))
        async with member("leaves"):
            await wait_until(lambda: stays.members == {"stays", "leaves"}, "both members seen")
        left_at = time.monotonic()
        await wait_until(lambda: stays.members == {"stays"}, "the leaver gone", 5.0)
        assert changes[-1][0] - left_at < 0.5
