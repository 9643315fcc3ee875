"""A shard worker that fails is logged, counted and started again with backoff, and
readiness fails naming it meanwhile (one in-process flow-controller, real NATS and Redis).

The failure is injected: ``ShardWorker.pass_once`` raises an error the worker does not
expect (a stand-in for any bug that ends it) while ``broken["now"]``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gie.bus import NatsEventBus
from gie.flowcontrol import AdmitRequest, FlowControlClient, FlowControlConfig, FlowKey, Outcome
from gie.saturation import SaturationConfig
from gie_flow_controller.app import run
from gie_flow_controller.config_file import FlowControllerConfig
from gie_flow_controller.settings import FlowControllerSettings
from gie_flow_controller.sharding import ShardWorker
from tests.support.flow_replicas import eventually, feed_capacity, in_process_settings
from tests.support.logs import captured_logs
from tests.support.running import wait_ready

pytestmark = pytest.mark.integration

ENDPOINT = "10.7.2.1:8000"


@pytest.fixture
def broken_pass(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bool]]:
    broken = {"now": False}
    pass_once = ShardWorker.pass_once

    async def failing_pass(self: ShardWorker) -> int:
        if broken["now"]:
            raise RuntimeError("pass broke")
        return await pass_once(self)

    monkeypatch.setattr(ShardWorker, "pass_once", failing_pass)
    yield broken


@pytest.fixture
async def replica(nats_url: str, redis_url: str) -> AsyncIterator[FlowControllerSettings]:
    pool = f"workers-{uuid.uuid4().hex[:8]}/pool"
    settings = in_process_settings(nats_url, redis_url, pool, "fc-workers")
    config = FlowControllerConfig(
        FlowControlConfig.model_validate({"shardCount": 1}),
        SaturationConfig(metrics_staleness_s=2.0),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, stop, config=config))
    try:
        await wait_ready(settings.admin_port)
        yield settings
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def get(settings: FlowControllerSettings, path: str) -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False) as http:
        return await http.get(f"http://127.0.0.1:{settings.admin_port}{path}")


async def restarts(settings: FlowControllerSettings) -> float:
    text = (await get(settings, "/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "gie_flow_control_task_restarts_total" and sample.labels == {
                "task": "shard-worker"
            }:
                return float(sample.value)
    return 0.0


async def test_a_failed_shard_worker_is_restarted_and_fails_readiness_meanwhile(
    broken_pass: dict[str, bool], replica: FlowControllerSettings, nats_url: str
) -> None:
    pool = replica.pool
    broken_pass["now"] = True
    async with (
        NatsEventBus(nats_url, name="workers-test") as bus,
        FlowControlClient([f"127.0.0.1:{replica.grpc_port}"]) as client,
    ):
        await bus.ensure_streams()
        feeder = asyncio.create_task(feed_capacity(bus, pool, [ENDPOINT]))
        try:
            with captured_logs("gie.flow_controller") as logs:
                request = AdmitRequest("w1", FlowKey("t", 0), byte_size=10, candidates=(ENDPOINT,))
                call = asyncio.create_task(client.admit(request))

                async def down() -> bool:
                    response = await get(replica, "/readyz")
                    body: dict[str, Any] = response.json()
                    failing = str(body["failing"].get("task:shard-worker"))
                    return response.status_code == 503 and "pass broke" in failing

                await eventually(down, timeout_s=5, what="/readyz naming the failed worker")
                assert await restarts(replica) >= 1
                assert not call.done()  # nothing dispatches while the worker is down
            ended = [e for e in logs if e["event"] == "task ended; restarting"]
            assert ended and ended[0]["task"] == "shard-0" and "pass broke" in ended[0]["error"]

            broken_pass["now"] = False
            result = await asyncio.wait_for(call, 10)
            assert result.outcome is Outcome.DISPATCHED

            async def back() -> bool:
                return (await get(replica, "/readyz")).status_code == 200

            await eventually(back, timeout_s=10, what="/readyz 200 again")
        finally:
            feeder.cancel()
