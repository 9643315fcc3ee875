"""Redis faults under a real flow-controller: every Admit call gets exactly one outcome.

A real Redis-protocol server (killed with SIGKILL and started again on the same port and
data directory) and a real flow-controller process. Requests are queued (the pool has no
capacity), Redis dies:

* while it is gone, a new Admit call fails at once (UNAVAILABLE, counted), and readiness
  fails naming Redis;
* restarted **without** the state (no append-only file), each queued call ends with
  ``FlowControlStateLostError`` (the picker answers 503) instead of waiting forever;
* restarted **with** its append-only file (launched as the local stack launches it), the
  queued requests are dispatched once capacity appears, each exactly once;
* after the restart new requests are admitted again, with no process restarted;
* a request whose TTL passes while Redis stays down ends with a timeout, not never.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from gie.bus import NatsEventBus
from gie.flowcontrol import (
    AdmitRequest,
    AdmitResult,
    FlowControlClient,
    FlowControlStateLostError,
    FlowControlTimeoutError,
    FlowControlUnavailableError,
    FlowKey,
    Outcome,
)
from gie_flow_controller.state import PoolKeys
from tests.support.flow_replicas import Replica, eventually, feed_capacity, replica_env, replicas
from tests.support.redis_process import RedisProcess

pytestmark = pytest.mark.integration

CONFIG = """
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
saturationDetector:
  queueDepthThreshold: 1000
  metricsStalenessThreshold: 2s
flowControl:
  shardCount: 2
  defaultRequestTTL: 60s
  objectiveRequestTTLs: {short: 2s}
"""
ENDPOINT = "10.9.1.1:8000"
QUEUED = 4
ERRORS = "gie_flow_control_admit_errors_total"


@dataclass
class Rig:
    pool: str
    redis: RedisProcess
    replica: Replica
    client: FlowControlClient
    bus: NatsEventBus

    async def queued(self) -> int:
        keys = PoolKeys(self.pool)
        client = Redis.from_url(self.redis.url)
        try:
            values = [await client.hget(f"{keys.prefix}s:{s}", "reqs") for s in range(2)]
        finally:
            await client.aclose()
        return sum(int(v or 0) for v in values)

    async def metric(self, name: str, **labels: str) -> float:
        """The sum of ``name``'s samples having ``labels``."""
        port = self.replica.admin_port
        async with httpx.AsyncClient(trust_env=False) as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
        wanted = [f'{key}="{value}"' for key, value in labels.items()]
        return sum(
            float(line.split()[-1])
            for line in text.splitlines()
            if line.startswith(name + "{") and all(label in line for label in wanted)
        )

    async def readyz(self) -> httpx.Response:
        async with httpx.AsyncClient(trust_env=False) as http:
            return await http.get(f"http://127.0.0.1:{self.replica.admin_port}/readyz")


def admit(request_id: str, objective: str = "") -> AdmitRequest:
    return AdmitRequest(
        request_id,
        FlowKey("tenant", 0),
        byte_size=100,
        input_tokens=10,
        candidates=(ENDPOINT,),
        objective=objective,
    )


@asynccontextmanager
async def rig(nats_url: str, tmp_path: Path, *, aof: bool) -> AsyncIterator[Rig]:
    pool = f"fc-{uuid.uuid4().hex[:8]}/pool"
    config = tmp_path / "epp.yaml"
    config.write_text(CONFIG)
    redis = RedisProcess(tmp_path / "redis", aof=aof)
    redis.start()
    env = replica_env(nats_url, redis.url, pool, config, GIE_REDIS_CHECK_S="0.2")
    try:
        async with (
            NatsEventBus(nats_url, name="test-feeder") as bus,
            replicas(["fc-a"], env=env, log_dir=tmp_path) as (replica,),
            FlowControlClient([replica.target]) as client,
        ):
            await bus.ensure_streams()
            yield Rig(pool, redis, replica, client, bus)
    finally:
        redis.stop()


async def queue_requests(r: Rig, prefix: str) -> dict[str, asyncio.Task[AdmitResult]]:
    calls = {
        f"{prefix}-{n}": asyncio.create_task(r.client.admit(admit(f"{prefix}-{n}")))
        for n in range(QUEUED)
    }

    async def all_queued() -> bool:
        return await r.queued() == QUEUED

    await eventually(all_queued, timeout_s=10, what="every request queued")
    # Queued in Redis; let the replica read the scripts' replies too (a reply lost with
    # Redis would fail the call UNAVAILABLE: its admission's fate is unknown).
    await asyncio.sleep(0.5)
    return calls


async def fails_fast_while_down(r: Rig) -> float:
    """A new Admit call while Redis is gone: FlowControlUnavailableError, quickly."""
    started = time.monotonic()
    with pytest.raises(FlowControlUnavailableError, match="flow state unavailable"):
        await asyncio.wait_for(r.client.admit(admit(f"down-{uuid.uuid4().hex[:6]}")), 10)
    took = time.monotonic() - started
    assert took < 3.0, f"admission took {took:.2f}s to fail while Redis was down"
    assert await r.metric(ERRORS, reason="store-unavailable") > 0

    async def not_ready() -> bool:
        response = await r.readyz()
        return response.status_code == 503 and "redis" in response.json()["failing"]

    await eventually(not_ready, timeout_s=5, what="/readyz failing on redis")
    print(f"admission failed {took:.2f}s after it was asked, Redis down")
    return took


async def admits_again(r: Rig, restarted_at: float) -> float:
    """Seconds from the restart until a new request is dispatched (capacity fed)."""
    n = 0
    while True:
        n += 1
        try:
            result = await r.client.admit(admit(f"after-{n}"), timeout_s=2.0)
        except (FlowControlUnavailableError, FlowControlTimeoutError):
            assert time.monotonic() - restarted_at < 15, "admissions did not recover"
            continue
        assert result.outcome is Outcome.DISPATCHED
        return time.monotonic() - restarted_at


async def ready_again(r: Rig, restarted_at: float) -> float:
    """Seconds from the restart until /readyz answers 200 again."""

    async def ready() -> bool:
        return (await r.readyz()).status_code == 200

    await eventually(ready, timeout_s=10, what="/readyz 200 again")
    return time.monotonic() - restarted_at


async def test_a_restart_that_lost_the_state_fails_each_queued_call_once(
    nats_url: str, tmp_path: Path
) -> None:
    async with rig(nats_url, tmp_path, aof=False) as r:
        calls = await queue_requests(r, "lost")
        r.redis.kill()
        await fails_fast_while_down(r)
        assert not any(call.done() for call in calls.values())  # nothing decided them
        r.redis.start()
        restarted_at = time.monotonic()

        done, pending = await asyncio.wait(calls.values(), timeout=10)
        assert not pending, "queued calls left hanging after Redis lost their state"
        lost_after = time.monotonic() - restarted_at
        for call in done:
            with pytest.raises(FlowControlStateLostError, match="lost request"):
                call.result()
        assert lost_after < 5.0
        assert await r.metric(ERRORS, reason="state-lost") == QUEUED

        feeder = asyncio.create_task(feed_capacity(r.bus, r.pool, [ENDPOINT]))
        try:
            recovered_after = await admits_again(r, restarted_at)
        finally:
            feeder.cancel()
        ready_after = await ready_again(r, restarted_at)
        print(f"lost {lost_after:.2f}s, admits {recovered_after:.2f}s, ready {ready_after:.2f}s")


async def test_a_restart_from_the_append_only_file_dispatches_each_request_once(
    nats_url: str, tmp_path: Path
) -> None:
    async with rig(nats_url, tmp_path, aof=True) as r:
        calls = await queue_requests(r, "kept")
        await asyncio.sleep(1.5)  # appendfsync everysec: the queue is on disk
        r.redis.kill()
        await fails_fast_while_down(r)
        r.redis.start()
        restarted_at = time.monotonic()
        assert await r.queued() == QUEUED  # the append-only file kept the queue

        feeder = asyncio.create_task(feed_capacity(r.bus, r.pool, [ENDPOINT]))
        try:
            results = await asyncio.wait_for(asyncio.gather(*calls.values()), 20)
            assert [result.outcome for result in results] == [Outcome.DISPATCHED] * QUEUED
            dispatched_after = time.monotonic() - restarted_at
            recovered_after = await admits_again(r, restarted_at)
        finally:
            feeder.cancel()
        keys = PoolKeys(r.pool)
        client = Redis.from_url(r.redis.url)
        try:
            inflight = {m.decode() for m in await client.zrange(f"{keys.prefix}inflight", 0, -1)}
        finally:
            await client.aclose()
        assert set(calls) <= inflight  # each dispatched, and dispatched once (a set member)
        dispatched = await r.metric("gie_flow_control_outcomes_total", outcome="Dispatched")
        assert dispatched == QUEUED + 1  # the queued ones, then the first new one
        print(f"kept calls dispatched {dispatched_after:.2f}s, admits {recovered_after:.2f}s")


async def test_a_call_ends_past_its_ttl_while_redis_stays_down(
    nats_url: str, tmp_path: Path
) -> None:
    async with rig(nats_url, tmp_path, aof=False) as r:
        started = time.monotonic()
        call = asyncio.create_task(r.client.admit(admit("short-1", objective="short")))

        async def queued() -> bool:
            return await r.queued() == 1

        await eventually(queued, timeout_s=5, what="the request queued")
        r.redis.kill()
        with pytest.raises(FlowControlTimeoutError, match="past its TTL"):
            await asyncio.wait_for(call, 15)
        took = time.monotonic() - started
        assert 2.0 <= took < 6.0, f"the call ended after {took:.2f}s (TTL 2s)"
        assert await r.metric(ERRORS, reason="no-outcome-by-ttl") == 1
        print(f"call past its TTL ended after {took:.2f}s")
