"""Two flow-controller replicas share one global queue in Redis.

The replica owning the shards that hold queued requests is killed (SIGKILL: no lease
released, nothing flushed). The other takes its shards over once their leases expire;
every request still gets exactly one outcome, none is dispatched twice, and the calls
that were waiting on the dead replica are answered after the client retried the same
request id on the survivor. Once the requests complete, their idle flows are collected.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from gie.bus import EVENTS, Deliver, NatsEventBus
from gie.events import Event, RequestCompleted, RequestDispatched, RequestQueued
from gie.events.subjects import pool_prefix, routing_subject
from gie.flowcontrol import AdmitRequest, AdmitResult, FlowControlClient, FlowKey, Outcome
from gie_flow_controller.state import PoolKeys
from tests.support.flow_replicas import eventually, feed_capacity, replica_env, replicas

pytestmark = pytest.mark.integration

CONFIG = """
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
saturationDetector:
  queueDepthThreshold: 1000
  metricsStalenessThreshold: 2s
flowControl:
  shardCount: 4
  defaultRequestTTL: 60s
  flowIdleTimeout: 1s
  defaultPriorityBand:
    fairnessPolicy: round-robin
"""
TENANTS = [f"tenant-{n}" for n in range(8)]
REQUESTS = 32
ENDPOINTS = ["10.9.0.1:8000", "10.9.0.2:8000"]


async def owners(client: Redis, keys: PoolKeys) -> dict[int, str]:
    found: dict[int, str] = {}
    for shard in range(4):
        owner = await client.get(keys.lease(shard))
        if owner is not None:
            found[shard] = owner.decode()
    return found


async def queued_per_shard(client: Redis, keys: PoolKeys) -> dict[int, int]:
    counts = {}
    for shard in range(4):
        value = await client.hget(f"{keys.prefix}s:{shard}", "reqs")
        counts[shard] = int(value or 0)
    return counts


async def metric(port: int, name: str) -> float | None:
    async with httpx.AsyncClient(trust_env=False) as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


async def test_killing_the_shard_owner_loses_no_request_and_dispatches_none_twice(
    nats_url: str, redis_url: str, tmp_path: Path
) -> None:
    pool = f"fc-{uuid.uuid4().hex[:8]}/pool"
    keys = PoolKeys(pool)
    config = tmp_path / "epp.yaml"
    config.write_text(CONFIG)
    env = replica_env(nats_url, redis_url, pool, config, GIE_HOUSEKEEPING_S="0.2")
    seen: list[Event] = []
    redis = Redis.from_url(redis_url)
    async with (
        NatsEventBus(nats_url, name="test-feeder") as bus,
        replicas(["fc-a", "fc-b"], env=env, log_dir=tmp_path) as (a, b),
    ):
        await bus.ensure_streams()
        events = await bus.follow(
            EVENTS, f"{pool_prefix(pool)}.flow.>", seen.append, deliver=Deliver.ALL
        )

        async def split_evenly() -> bool:
            return Counter((await owners(redis, keys)).values()) == {"fc-a": 2, "fc-b": 2}

        await eventually(split_evenly, timeout_s=10, what="two shards per replica")

        # The pool has no endpoint: everything queues.
        async with FlowControlClient([a.target, b.target]) as client:
            calls = {
                f"req-{n}": asyncio.create_task(
                    client.admit(
                        AdmitRequest(
                            f"req-{n}",
                            FlowKey(TENANTS[n % len(TENANTS)], 0),
                            byte_size=100,
                            input_tokens=10,
                            output_tokens=10,
                        )
                    )
                )
                for n in range(REQUESTS)
            }

            async def all_queued() -> bool:
                return sum((await queued_per_shard(redis, keys)).values()) == REQUESTS

            await eventually(all_queued, timeout_s=10, what="every request queued")
            await asyncio.sleep(0.3)
            assert not any(call.done() for call in calls.values())  # no capacity, no dispatch

            # Kill the replica whose shards hold the most queued requests.
            per_shard = await queued_per_shard(redis, keys)
            leases = await owners(redis, keys)
            load = Counter({name: 0 for name in ("fc-a", "fc-b")})
            for shard, count in per_shard.items():
                load[leases[shard]] += count
            victim, survivor = (a, b) if load["fc-a"] >= load["fc-b"] else (b, a)
            assert load[victim.name] > 0
            victim.kill()

            # Capacity appears; the survivor takes the dead replica's shards over.
            feeder = asyncio.create_task(feed_capacity(bus, pool, ENDPOINTS))
            try:
                answers = await asyncio.wait_for(asyncio.gather(*calls.values()), 30)
                results: dict[str, AdmitResult] = dict(zip(calls, answers, strict=True))

                async def survivor_owns_all() -> bool:
                    return set((await owners(redis, keys)).values()) == {survivor.name}

                await eventually(survivor_owns_all, timeout_s=5, what="takeover")
            finally:
                feeder.cancel()
        assert {rid: r.outcome for rid, r in results.items()} == dict.fromkeys(
            calls, Outcome.DISPATCHED
        )
        # Every call was still waiting when the victim died: the survivor answered all,
        # those first sent to the victim after the client retried them.
        assert {r.served_by for r in results.values()} == {survivor.name}
        assert sum((await queued_per_shard(redis, keys)).values()) == 0

        # The stream saw each request queued once and dispatched once.
        async def all_dispatched_seen() -> bool:
            return sum(isinstance(e, RequestDispatched) for e in seen) >= REQUESTS

        await eventually(all_dispatched_seen, timeout_s=10, what="dispatch events")
        await asyncio.sleep(0.3)  # a duplicate would arrive by now
        dispatched = Counter(e.request_id for e in seen if isinstance(e, RequestDispatched))
        queued = Counter(e.request_id for e in seen if isinstance(e, RequestQueued))
        assert dispatched == Counter(list(calls)) == queued

        # Completions free the flows; idle flows are garbage-collected.
        assert await redis.zcard(f"{keys.prefix}flows") == len(TENANTS)
        for rid in calls:
            await bus.publish(
                routing_subject(pool, "completed"),
                RequestCompleted(
                    source="picker",
                    pool=pool,
                    request_id=rid,
                    target=ENDPOINTS[0],
                    picker="p",
                    status=200,
                    prompt_tokens=12,
                    completion_tokens=30,
                ),
            )

        async def flows_collected() -> bool:
            flows = await redis.zcard(f"{keys.prefix}flows")
            hashes = [k async for k in redis.scan_iter(match=f"{keys.prefix}f:*")]
            return flows == 0 and not hashes

        await eventually(flows_collected, timeout_s=10, what="idle flows collected")
        assert await redis.zcard(f"{keys.prefix}inflight") == 0

        # A band's fairness floor and round-robin position go with its flows: every
        # priority a client ever used would otherwise leave keys forever.
        async def band_keys_expire() -> bool:
            floors = [k async for k in redis.scan_iter(match=f"{keys.prefix}vtc:*:floor")]
            cursors = [k async for k in redis.scan_iter(match=f"{keys.prefix}s:*:b:*:rr")]
            return not floors and not cursors

        await eventually(band_keys_expire, timeout_s=10, what="band keys expired")

        async def gauge_zero() -> bool:
            return await metric(survivor.admin_port, "gie_flow_control_flows") == 0.0

        await eventually(gauge_zero, timeout_s=5, what="flows gauge at zero")
        await events.stop()
    await redis.aclose()
