"""A rolling update that changes shardCount: once a replica with the new count has
laid the flow state out again, a replica still on the old count refuses its Admits
(UNAVAILABLE, so the picker retries another replica) and reports itself not ready,
naming both counts, until it is restarted with the new count."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
import httpx
import pytest

from gie.flowcontrol import AdmitRequest, FlowControlConfig, FlowKey
from gie.flowcontrol.v1 import flow_control_pb2_grpc as pb_grpc
from gie.saturation import SaturationConfig
from gie_flow_controller.app import run
from gie_flow_controller.config_file import FlowControllerConfig
from gie_flow_controller.settings import FlowControllerSettings
from tests.support.flow_replicas import eventually, in_process_settings
from tests.support.running import wait_ready

pytestmark = pytest.mark.integration


@asynccontextmanager
async def replica(settings: FlowControllerSettings, shards: int) -> AsyncIterator[None]:
    config = FlowControllerConfig(
        FlowControlConfig.model_validate({"shardCount": shards}), SaturationConfig()
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, stop, config=config))
    try:
        await wait_ready(settings.admin_port)
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def test_a_replica_on_the_old_shard_count_refuses_admits_and_is_not_ready(
    nats_url: str, redis_url: str
) -> None:
    pool = f"layout-{uuid.uuid4().hex[:8]}/pool"
    old = in_process_settings(nats_url, redis_url, pool, "fc-old")
    new = in_process_settings(nats_url, redis_url, pool, "fc-new")
    async with replica(old, 2), replica(new, 4):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{old.grpc_port}") as channel:
            admit = AdmitRequest("r1", FlowKey("t", 0), pool=pool, candidates=("10.0.0.1:8000",))
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await pb_grpc.FlowControlStub(channel).Admit(admit.to_proto(), timeout=5)
        assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
        assert "laid out in 4 shards and this replica in 2" in (caught.value.details() or "")

        async with httpx.AsyncClient(trust_env=False) as http:

            async def old_not_ready() -> bool:
                response = await http.get(f"http://127.0.0.1:{old.admin_port}/readyz")
                return response.status_code == 503

            await eventually(old_not_ready, timeout_s=5, what="the old replica's /readyz 503")
            body = (await http.get(f"http://127.0.0.1:{old.admin_port}/readyz")).json()
            assert set(body["failing"]) == {"shard-layout"}
            assert "laid out in 4 shards and this replica in 2" in body["failing"]["shard-layout"]
            metrics = (await http.get(f"http://127.0.0.1:{old.admin_port}/metrics")).text
            assert 'reason="layout-changed"' in metrics
            # The replica on the new count serves on.
            assert (await http.get(f"http://127.0.0.1:{new.admin_port}/readyz")).status_code == 200
