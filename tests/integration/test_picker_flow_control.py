"""The picker with the flowControl gate: fast path when there is room, Admit otherwise."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import grpc
import orjson
import pytest

from gie.bus import EVENTS, Deliver, NatsEventBus
from gie.events import Event, RequestDispatched, RequestQueued
from gie.events.subjects import pool_prefix
from gie.flowcontrol import FlowControlConfig
from gie.saturation import SaturationConfig
from gie_flow_controller.app import run as run_flow_controller
from gie_flow_controller.config_file import FlowControllerConfig
from gie_picker.app import run as run_picker
from tests.support.extproc_client import Mode, body_message, exchange, headers_message, set_headers
from tests.support.flow_replicas import eventually, feed_capacity, in_process_settings
from tests.support.pickers import publish_endpoints, replica_settings
from tests.support.running import service, wait_ready

pytestmark = pytest.mark.integration

ENDPOINT = "10.8.0.1:8000"
CONFIG = """\
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
featureGates: [flowControl]
saturationDetector: {metricsStalenessThreshold: 2s}
flowControl: {shardCount: 2}
plugins:
- type: queue-scorer
"""


async def route(grpc_port: int, request_id: str) -> str:
    body = orjson.dumps({"model": "m", "prompt": "hello", "max_tokens": 1})
    async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        responses = await exchange(
            channel,
            [
                headers_message(
                    {
                        ":method": "POST",
                        ":path": "/v1/completions",
                        "x-request-id": request_id,
                        "x-gateway-inference-fairness-id": "tenant-a",
                    },
                    end_of_stream=False,
                    mode=Mode.FULL_DUPLEX_STREAMED,
                ),
                body_message(body, end_of_stream=True),
            ],
        )
    return set_headers(responses[0].request_headers.response.header_mutation)[
        "x-gateway-destination-endpoint"
    ]


@pytest.mark.parametrize("read_delay_s", [0.0, 0.5], ids=["read-on-arrival", "read-in-bursts"])
async def test_saturated_requests_wait_in_flow_control_then_fast_path_when_idle(
    nats_url: str, redis_url: str, tmp_path: Path, read_delay_s: float
) -> None:
    pool = f"fcpick-{uuid.uuid4().hex[:8]}/pool"
    config_file = tmp_path / "epp.yaml"
    config_file.write_text(CONFIG)
    fc_settings = in_process_settings(nats_url, redis_url, pool, "fc-0")
    fc_config = FlowControllerConfig(
        FlowControlConfig.model_validate({"shardCount": 2}),
        SaturationConfig(metrics_staleness_s=2.0),
    )
    picker = replica_settings(
        nats_url,
        pool,
        "picker-0",
        config_file=config_file,
        flow_control_targets=f"127.0.0.1:{fc_settings.grpc_port}",
        # In bursts the picker must still see the dispatch before its next decision.
        event_read_delay_s=read_delay_s,
    )
    events: list[Event] = []
    async with NatsEventBus(nats_url, name="observer") as bus:
        await bus.ensure_streams()
        await publish_endpoints(bus, pool, [ENDPOINT])  # no metrics yet: no capacity
        await bus.follow(EVENTS, f"{pool_prefix(pool)}.flow.>", events.append, deliver=Deliver.ALL)
        async with (
            service(lambda stop: run_flow_controller(fc_settings, stop, config=fc_config)),
            service(lambda stop: run_picker(picker, stop)),
        ):
            await wait_ready(fc_settings.admin_port)
            await wait_ready(picker.admin_port)
            waiting = asyncio.create_task(route(picker.grpc_port, "queued-1"))
            await asyncio.sleep(0.8)
            assert not waiting.done()  # held by the flow-controller
            feeder = asyncio.create_task(feed_capacity(bus, pool, [ENDPOINT], every_s=0.2))
            try:
                assert await asyncio.wait_for(waiting, 15) == ENDPOINT

                async def backlog_drained() -> bool:
                    return any(isinstance(e, RequestDispatched) for e in events)

                await eventually(backlog_drained, timeout_s=5, what="the dispatch event")
                # With room and no backlog the next request skips the flow-controller.
                assert await asyncio.wait_for(route(picker.grpc_port, "direct-1"), 5) == ENDPOINT
            finally:
                feeder.cancel()
    queued = [e.request_id for e in events if isinstance(e, RequestQueued)]
    assert queued == ["queued-1"]
