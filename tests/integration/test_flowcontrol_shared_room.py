"""Two flow-controller replicas spend one endpoint's room once, not once each.

Each replica owns one of the two shards, and each shard holds a tenant's queued
requests. When the endpoint's metrics show room for two more requests, both replicas
see it at once; the pool dispatches two, not four. A newer scrape shows room again and
two more go; then the rest.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path

import pytest
from redis.asyncio import Redis

from gie.bus import NatsEventBus
from gie.events import Endpoint, EndpointUpserted
from gie.events.subjects import endpoint_subject
from gie.flowcontrol import AdmitRequest, FlowControlClient, FlowKey, Outcome
from gie_flow_controller.state import PoolKeys
from tests.integration.test_flowcontrol_replicas import owners, queued_per_shard
from tests.support.flow_replicas import eventually, observe, replica_env, replicas

pytestmark = pytest.mark.integration

CONFIG = """
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
saturationDetector: {queueDepthThreshold: 1, metricsStalenessThreshold: 60s}
flowControl:
  shardCount: 2
  defaultRequestTTL: 60s
"""
ENDPOINT = "10.9.1.1:8000"
PER_TENANT = 3


async def test_two_replicas_share_the_room_one_scrape_shows(
    nats_url: str, redis_url: str, tmp_path: Path
) -> None:
    pool = f"room-{uuid.uuid4().hex[:8]}/pool"
    keys = PoolKeys(pool)
    config = tmp_path / "epp.yaml"
    config.write_text(CONFIG)
    env = replica_env(nats_url, redis_url, pool, config)
    redis = Redis.from_url(redis_url)
    async with (
        NatsEventBus(nats_url, name="test-room") as bus,
        replicas(["fc-a", "fc-b"], env=env, log_dir=tmp_path) as (a, b),
    ):
        await bus.ensure_streams()
        await bus.publish(
            endpoint_subject(pool, ENDPOINT),
            EndpointUpserted(source="test", pool=pool, endpoint=Endpoint(address=ENDPOINT)),
        )
        await observe(bus, pool, ENDPOINT, waiting=5, running=2)  # no capacity: everything queues

        async def one_shard_each() -> bool:
            return Counter((await owners(redis, keys)).values()) == {"fc-a": 1, "fc-b": 1}

        await eventually(one_shard_each, timeout_s=10, what="one shard per replica")
        async with FlowControlClient([a.target, b.target]) as client:
            calls = [
                asyncio.create_task(
                    client.admit(
                        AdmitRequest(
                            f"{tenant}-{n}", FlowKey(tenant, 0), byte_size=100, input_tokens=10
                        )
                    )
                )
                for n in range(PER_TENANT)
                for tenant in ("a", "b")
            ]

            async def queued_on_both_shards() -> bool:
                per_shard = await queued_per_shard(redis, keys)
                return per_shard[0] + per_shard[1] == len(calls) and 0 not in (
                    per_shard[0],
                    per_shard[1],
                )

            await eventually(queued_on_both_shards, timeout_s=10, what="work on both shards")
            await asyncio.sleep(0.3)
            assert not any(call.done() for call in calls)

            async def done_is(count: int) -> bool:
                return sum(call.done() for call in calls) == count

            # Room for 2, seen by both replicas.
            await observe(bus, pool, ENDPOINT, waiting=0, running=2)
            await eventually(lambda: done_is(2), timeout_s=5, what="two dispatched")
            await asyncio.sleep(1.0)  # both replicas had ample time to overspend it
            assert sum(call.done() for call in calls) == 2
            assert await redis.zcard(f"{keys.prefix}inflight") == 2

            # A newer scrape: room for 2 more.
            await observe(bus, pool, ENDPOINT, waiting=0, running=2)
            await eventually(lambda: done_is(4), timeout_s=5, what="two more dispatched")
            await asyncio.sleep(0.5)
            assert sum(call.done() for call in calls) == 4

            await observe(bus, pool, ENDPOINT, waiting=0, running=2)
            results = await asyncio.wait_for(asyncio.gather(*calls), 10)
    await redis.aclose()
    assert [r.outcome for r in results] == [Outcome.DISPATCHED] * len(calls)
    assert {r.served_by for r in results} == {"fc-a", "fc-b"}
