"""Every picker replica holds the same prefix index, whichever replica routed."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import orjson
import pytest

from gie.bus import NatsEventBus
from gie.events import EndpointMetrics
from gie_picker.app import run
from tests.support.extproc_client import Mode, body_message, exchange, headers_message, set_headers
from tests.support.pickers import debug_view, publish_endpoints, publish_metrics, replica_settings
from tests.support.running import service, wait_ready

pytestmark = pytest.mark.integration

SYSTEM = "You are a helpful assistant. " * 40  # a long shared system prompt


async def route(grpc_port: int, prompt: str) -> str:
    body = orjson.dumps({"model": "sim-llama", "prompt": prompt, "max_tokens": 1})
    async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        responses = await exchange(
            channel,
            [
                headers_message(
                    {":method": "POST", ":path": "/v1/completions"},
                    end_of_stream=False,
                    mode=Mode.FULL_DUPLEX_STREAMED,
                ),
                body_message(body, end_of_stream=True),
            ],
        )
    return set_headers(responses[0].request_headers.response.header_mutation)[
        "x-gateway-destination-endpoint"
    ]


async def test_two_replicas_share_the_index_and_follow_each_others_affinity(
    nats_url: str,
) -> None:
    pool = f"prefix/{uuid.uuid4().hex[:8]}"
    addresses = [f"10.2.0.{i}:8000" for i in range(1, 5)]
    replicas = [replica_settings(nats_url, pool, f"picker-{i}") for i in range(2)]
    async with NatsEventBus(nats_url, name="feeder") as bus:
        await bus.ensure_streams()
        await publish_endpoints(bus, pool, addresses)
        for address in addresses:
            await publish_metrics(
                bus,
                pool,
                address,
                EndpointMetrics(
                    waiting_queue_size=0,
                    running_requests=0,
                    kv_cache_usage=0.0,
                    kv_block_size=16,
                    kv_num_blocks=1000,
                ),
            )
        async with (
            service(lambda stop: run(replicas[0], stop)),
            service(lambda stop: run(replicas[1], stop)),
        ):
            for replica in replicas:
                await wait_ready(replica.admin_port)
            # Replica 0 routes the first request of each group ...
            first = {g: await route(replicas[0].grpc_port, f"{SYSTEM} group {g} q0") for g in "ab"}
            views: list[dict[str, object]] = []
            for _ in range(100):
                views = [await debug_view(r.admin_port) for r in replicas]
                if views[1]["prefix_index"]["blocks"] and (  # type: ignore[index]
                    views[0]["prefix_index"] == views[1]["prefix_index"]
                ):
                    break
                await asyncio.sleep(0.05)
            assert views[0]["prefix_index"] == views[1]["prefix_index"]
            # ... and replica 1, which never saw those requests, follows the affinity.
            for group, target in first.items():
                for n in range(1, 4):
                    assert (
                        await route(replicas[1].grpc_port, f"{SYSTEM} group {group} q{n}") == target
                    )


async def test_a_new_replica_starts_warm_from_the_snapshot(nats_url: str) -> None:
    pool = f"snap/{uuid.uuid4().hex[:8]}"
    addresses = [f"10.3.0.{i}:8000" for i in range(1, 4)]
    first = replica_settings(nats_url, pool, "picker-a", prefix_snapshot_interval_s=0.2)
    # The late replica replays almost no history: without the snapshot its index
    # would stay empty.
    late = replica_settings(
        nats_url, pool, "picker-b", prefix_snapshot_interval_s=0, inflight_ttl_s=0.001
    )
    async with NatsEventBus(nats_url, name="feeder") as bus:
        await bus.ensure_streams()
        await publish_endpoints(bus, pool, addresses)
        async with service(lambda stop: run(first, stop)):
            await wait_ready(first.admin_port)
            for n in range(6):
                await route(first.grpc_port, f"{SYSTEM} group {n % 3} question {n}")
            await asyncio.sleep(1.0)  # a few snapshot periods
            async with service(lambda stop: run(late, stop)):
                await wait_ready(late.admin_port)
                views = [await debug_view(s.admin_port) for s in (first, late)]
    index_a, index_b = (v["prefix_index"] for v in views)
    assert index_b["blocks"] > 0  # type: ignore[index]
    assert index_a == index_b
