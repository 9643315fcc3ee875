"""What the picker answers, over a real ext_proc gRPC stream, when flow control cannot
take a request: an unusable gateway header is a 400 naming the header (whatever the
load), a request the flow-controller calls malformed a 400 with its reason, a
flow-controller that fails a 503, and so is a request the flow state lost (saying so).
Never a 500.

The flow-controller is a hand-written ``FlowControl`` gRPC server on a loopback port.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import grpc
import orjson
import pytest
from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_pb
from prometheus_client import CollectorRegistry

from gie.events import Endpoint, EndpointMetrics, EndpointMetricsObserved, EndpointUpserted
from gie.flowcontrol import BacklogView, FlowControlClient
from gie.flowcontrol.v1 import flow_control_pb2 as pb
from gie.flowcontrol.v1 import flow_control_pb2_grpc as pb_grpc
from gie.saturation import SaturationConfig
from gie.view import EndpointState, PoolView
from gie_picker.admission.flow_gate import FlowGate
from gie_picker.extproc import ExtProcServicer, add_servicer
from gie_picker.extproc.protocol import FULL_DUPLEX_STREAMED
from gie_picker.requestcontrol.director import Director
from gie_picker.requestcontrol.request import InferenceRequest
from gie_picker.telemetry.metrics import PickerMetrics
from tests.support.extproc_client import Mode, body_message, exchange, headers_message

pytestmark = pytest.mark.integration

POOL = "default/flow-errors"
ENDPOINT = "10.9.0.1:8000"
FAIRNESS = "x-gateway-inference-fairness-id"
REQUEST_ID = "x-request-id"

Context = grpc.aio.ServicerContext[pb.AdmitRequest, pb.AdmitResponse]


@dataclass
class StandIn(pb_grpc.FlowControlServicer):
    """Dispatches every request, or fails every call with ``fail_with``."""

    fail_with: grpc.StatusCode | None = None
    seen: list[str] = field(default_factory=list)

    async def Admit(self, request: pb.AdmitRequest, context: Context) -> pb.AdmitResponse:
        self.seen.append(request.request_id)
        if self.fail_with is not None:
            await context.abort(self.fail_with, f"stand-in fails with {self.fail_with.name}")
        return pb.AdmitResponse(outcome=pb.OUTCOME_DISPATCHED, served_by="stand-in")


@dataclass
class Picker:
    channel: grpc.aio.Channel
    registry: CollectorRegistry
    flow_controller: StandIn

    def count(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


def pool_view(*, saturated: bool) -> PoolView:
    """One endpoint; without metrics it has no known capacity, so the pool is saturated."""
    view = PoolView(POOL)
    view.apply(EndpointUpserted(source="t", pool=POOL, endpoint=Endpoint(address=ENDPOINT)))
    if not saturated:
        metrics = EndpointMetrics(waiting_queue_size=0, running_requests=0, kv_cache_usage=0.1)
        view.apply(
            EndpointMetricsObserved(
                source="t",
                pool=POOL,
                address=ENDPOINT,
                scraped_at=datetime.now(UTC),
                metrics=metrics,
            )
        )
    return view


class FirstEndpoint:
    def schedule(
        self, request: InferenceRequest, candidates: Sequence[EndpointState], *, priority: int
    ) -> tuple[str, ...]:
        return (candidates[0].address,)


@contextlib.asynccontextmanager
async def picker_with_flow_control(
    stand_in: StandIn, *, saturated: bool = True
) -> AsyncIterator[Picker]:
    fc_server = grpc.aio.server()
    pb_grpc.add_FlowControlServicer_to_server(stand_in, fc_server)
    fc_port = fc_server.add_insecure_port("127.0.0.1:0")
    await fc_server.start()
    registry = CollectorRegistry()
    picker_server = grpc.aio.server()
    try:
        async with FlowControlClient(
            [f"127.0.0.1:{fc_port}"], max_rounds=2, backoff_s=0.001
        ) as client:
            gate = FlowGate(
                client=client,
                backlog=BacklogView(POOL),
                # Metrics of any age count as fresh: the idle pool stays idle.
                saturation=SaturationConfig(metrics_staleness_s=3600.0),
                pool=POOL,
                now=lambda: datetime.now(UTC),
            )
            director = Director(
                view=pool_view(saturated=saturated),
                scheduler=FirstEndpoint(),
                saturation=SaturationConfig(metrics_staleness_s=3600.0),
                publisher=None,
                metrics=PickerMetrics(registry),
                source="picker-test",
                now=lambda: datetime.now(UTC),
                flow_gate=gate,
            )
            add_servicer(
                picker_server,
                ExtProcServicer(
                    director,
                    max_body_bytes=100_000,
                    chunk_bytes=62_000,
                    default_mode=FULL_DUPLEX_STREAMED,
                ),
            )
            port = picker_server.add_insecure_port("127.0.0.1:0")
            await picker_server.start()
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                yield Picker(channel, registry, stand_in)
    finally:
        await picker_server.stop(None)
        await fc_server.stop(None)


async def send(picker: Picker, **headers: str) -> list[ext_pb.ProcessingResponse]:
    body = orjson.dumps({"model": "m", "prompt": "hello", "max_tokens": 1})
    return await exchange(
        picker.channel,
        [
            headers_message(
                {":method": "POST", ":path": "/v1/completions", **headers},
                end_of_stream=False,
                mode=Mode.FULL_DUPLEX_STREAMED,
            ),
            body_message(body, end_of_stream=True),
        ],
    )


def immediate(responses: list[ext_pb.ProcessingResponse]) -> tuple[int, str]:
    assert len(responses) == 1, responses
    answer = responses[0].immediate_response
    return answer.status.code, orjson.loads(answer.body)["error"]["message"]


@pytest.mark.parametrize("saturated", [True, False], ids=["saturated", "idle"])
@pytest.mark.parametrize(
    ("header", "value", "problem"),
    [
        (FAIRNESS, "t" * 257, "longer than 256 characters"),
        (REQUEST_ID, "r" * 300, "longer than 256 characters"),
        (FAIRNESS, "tenant\ta", "control characters"),
    ],
    ids=["fairness-id-too-long", "request-id-too-long", "fairness-id-with-a-tab"],
)
async def test_an_unusable_flow_header_is_a_400_naming_it(
    header: str, value: str, problem: str, saturated: bool
) -> None:
    async with picker_with_flow_control(StandIn(), saturated=saturated) as picker:
        status, message = immediate(await send(picker, **{header: value}))
        assert status == 400
        assert header in message
        assert problem in message
        assert picker.flow_controller.seen == []  # refused before any Admit call
        assert picker.count("gie_picker_requests_rejected_total", status="400") == 1
        assert picker.count("gie_picker_invalid_headers_total", header=header) == 1


async def test_ids_of_256_characters_are_admitted() -> None:
    async with picker_with_flow_control(StandIn()) as picker:
        responses = await send(picker, **{FAIRNESS: "t" * 256, REQUEST_ID: "r" * 256})
        assert responses[0].HasField("request_headers")
        assert picker.flow_controller.seen == ["r" * 256]


async def test_a_request_the_flow_controller_calls_malformed_is_a_400_with_its_reason() -> None:
    stand_in = StandIn(fail_with=grpc.StatusCode.INVALID_ARGUMENT)
    async with picker_with_flow_control(stand_in) as picker:
        status, message = immediate(await send(picker, **{REQUEST_ID: "req-1"}))
        assert status == 400
        assert "stand-in fails with INVALID_ARGUMENT" in message
        assert stand_in.seen == ["req-1"]  # not retried elsewhere
        assert picker.count("gie_picker_requests_rejected_total", status="400") == 1


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.PERMISSION_DENIED,
    ],
    ids=lambda code: code.name.lower(),
)
async def test_a_failing_flow_controller_is_a_503(code: grpc.StatusCode) -> None:
    async with picker_with_flow_control(StandIn(fail_with=code)) as picker:
        status, message = immediate(await send(picker))
        assert status == 503
        assert "flow control unavailable" in message
        assert picker.count("gie_picker_requests_rejected_total", status="503") == 1
        assert picker.count("gie_picker_requests_rejected_total", status="500") == 0


async def test_a_request_the_flow_state_lost_is_a_503_saying_so_and_not_retried() -> None:
    stand_in = StandIn(fail_with=grpc.StatusCode.DATA_LOSS)  # Redis restarted without it
    async with picker_with_flow_control(stand_in) as picker:
        status, message = immediate(await send(picker, **{REQUEST_ID: "req-lost"}))
        assert status == 503
        assert "flow control lost the request" in message
        assert "stand-in fails with DATA_LOSS" in message
        assert stand_in.seen == ["req-lost"]  # not queued again elsewhere
        assert picker.count("gie_picker_requests_rejected_total", status="503") == 1
