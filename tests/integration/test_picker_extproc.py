"""The picker's ext_proc service, driven over a real gRPC channel as Envoy would."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import grpc
import orjson
import pytest
from prometheus_client import CollectorRegistry

from gie.events import (
    Endpoint,
    EndpointMetrics,
    EndpointMetricsObserved,
    EndpointRemoved,
    EndpointUpserted,
)
from gie.view import PoolView
from gie_picker.extproc import ExtProcServicer, add_servicer
from gie_picker.extproc.protocol import FULL_DUPLEX_STREAMED
from gie.saturation import SaturationConfig
from gie_picker.director import Director
from gie_picker.scheduling import ShortestQueuePicker
from gie_picker.scheduling.queue_scheduler import ShortestQueueScheduler
from gie_picker.telemetry import PickerMetrics
from tests.support.extproc_client import (
    Mode,
    body_message,
    exchange,
    headers_message,
    set_headers,
)

pytestmark = pytest.mark.integration

POOL = "default/sim-pool"
BUSY, IDLE = "10.0.0.1:8000", "10.0.0.2:8000"
MAX_BODY = 200_000
CHUNK = 62_000


def completion(prompt: str = "hello") -> bytes:
    return orjson.dumps({"model": "sim-llama", "prompt": prompt, "max_tokens": 5})


class Picker:
    def __init__(self, view: PoolView, channel: grpc.aio.Channel) -> None:
        self.view = view
        self.channel = channel


@pytest.fixture
async def picker() -> AsyncIterator[Picker]:
    view = PoolView(POOL)
    for address, waiting in ((BUSY, 9), (IDLE, 0)):
        view.apply(EndpointUpserted(source="t", pool=POOL, endpoint=Endpoint(address=address)))
        view.apply(
            EndpointMetricsObserved(
                source="t",
                pool=POOL,
                address=address,
                scraped_at=datetime.now(UTC),
                metrics=EndpointMetrics(
                    waiting_queue_size=waiting, running_requests=1, kv_cache_usage=0.1
                ),
            )
        )
    director = Director(
        view=view,
        scheduler=ShortestQueueScheduler(ShortestQueuePicker(random.Random(1))),
        saturation=SaturationConfig(),
        publisher=None,
        metrics=PickerMetrics(CollectorRegistry()),
        source="picker-test",
        now=lambda: datetime.now(UTC),
    )
    server = grpc.aio.server()
    add_servicer(
        server,
        ExtProcServicer(
            director, max_body_bytes=MAX_BODY, chunk_bytes=CHUNK, default_mode=FULL_DUPLEX_STREAMED
        ),
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield Picker(view, channel)
    await server.stop(None)


def request_headers(**extra: str) -> dict[str, str]:
    return {
        ":method": "POST",
        ":path": "/v1/completions",
        "content-type": "application/json",
        **extra,
    }


async def test_full_duplex_routes_to_the_shortest_queue_and_restreams_the_body(
    picker: Picker,
) -> None:
    body = completion("x" * 150_000)
    pieces = [body[i : i + 50_000] for i in range(0, len(body), 50_000)]
    messages = [
        headers_message(request_headers(), end_of_stream=False, mode=Mode.FULL_DUPLEX_STREAMED)
    ]
    messages += [body_message(p, end_of_stream=i == len(pieces) - 1) for i, p in enumerate(pieces)]
    responses = await exchange(picker.channel, messages)

    first = responses[0]
    assert first.WhichOneof("response") == "request_headers"
    headers = set_headers(first.request_headers.response.header_mutation)
    assert headers["x-gateway-destination-endpoint"] == IDLE
    assert first.request_headers.response.clear_route_cache
    lb = first.dynamic_metadata.fields["envoy.lb"].struct_value
    assert lb.fields["x-gateway-destination-endpoint"].string_value == IDLE
    assert headers["x-request-id"]  # generated when the client sent none

    chunks = [r.request_body.response.body_mutation.streamed_response for r in responses[1:]]
    assert b"".join(c.body for c in chunks) == body
    assert all(len(c.body) <= CHUNK for c in chunks)
    assert [c.end_of_stream for c in chunks] == [False] * (len(chunks) - 1) + [True]


async def test_buffered_mode_continues_headers_then_routes_on_the_body(picker: Picker) -> None:
    responses = await exchange(
        picker.channel,
        [
            headers_message(request_headers(), end_of_stream=False, mode=Mode.BUFFERED),
            body_message(completion(), end_of_stream=True),
        ],
    )
    assert [r.WhichOneof("response") for r in responses] == ["request_headers", "request_body"]
    assert not responses[0].request_headers.response.HasField("header_mutation")
    routed = responses[1]
    assert (
        set_headers(routed.request_body.response.header_mutation)["x-gateway-destination-endpoint"]
        == IDLE
    )
    assert routed.request_body.response.clear_route_cache
    lb = routed.dynamic_metadata.fields["envoy.lb"].struct_value
    assert lb.fields["x-gateway-destination-endpoint"].string_value == IDLE


async def test_forged_destination_is_overwritten_and_gateway_headers_removed(
    picker: Picker,
) -> None:
    forged = request_headers(
        **{
            "x-gateway-destination-endpoint": BUSY,
            "x-gateway-inference-fairness-id": "tenant-a",
            "x-gateway-inference-objective": "critical",
            "x-request-id": "client-id-1",
        }
    )
    responses = await exchange(
        picker.channel,
        [
            headers_message(forged, end_of_stream=False, mode=Mode.FULL_DUPLEX_STREAMED),
            body_message(completion(), end_of_stream=True),
        ],
    )
    mutation = responses[0].request_headers.response.header_mutation
    assert set_headers(mutation)["x-gateway-destination-endpoint"] == IDLE
    assert all(h.append_action == h.OVERWRITE_IF_EXISTS_OR_ADD for h in mutation.set_headers)
    assert "x-request-id" not in set_headers(mutation)  # the client's id is kept
    assert {"x-gateway-inference-fairness-id", "x-gateway-inference-objective"} <= set(
        mutation.remove_headers
    )


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b'{"prompt": "hi"}', 400, "'model'"),
        (b'{"model": "sim-llama"}', 400, "neither 'prompt' nor 'messages'"),
        (b'{"model": "sim-llama", "prompt": "' + b"x" * MAX_BODY + b'"}', 413, "exceeds"),
    ],
    ids=["not-json", "no-model", "no-prompt", "too-large"],
)
async def test_bad_requests_get_an_immediate_response_naming_the_problem(
    picker: Picker, body: bytes, status: int, message: str
) -> None:
    responses = await exchange(
        picker.channel,
        [
            headers_message(request_headers(), end_of_stream=False, mode=Mode.FULL_DUPLEX_STREAMED),
            body_message(body, end_of_stream=True),
        ],
    )
    assert len(responses) == 1
    immediate = responses[0].immediate_response
    assert immediate.status.code == status
    assert message in orjson.loads(immediate.body)["error"]["message"]


async def test_empty_pool_answers_503(picker: Picker) -> None:
    for address in (BUSY, IDLE):
        picker.view.apply(EndpointRemoved(source="t", pool=POOL, address=address))
    responses = await exchange(
        picker.channel,
        [
            headers_message(request_headers(), end_of_stream=False, mode=Mode.FULL_DUPLEX_STREAMED),
            body_message(completion(), end_of_stream=True),
        ],
    )
    assert responses[0].immediate_response.status.code == 503
    assert b"no endpoint available" in responses[0].immediate_response.body


async def test_headers_only_request_is_routed_on_the_headers(picker: Picker) -> None:
    responses = await exchange(
        picker.channel,
        [
            headers_message(
                {":method": "GET", ":path": "/v1/models"},
                end_of_stream=True,
                mode=Mode.FULL_DUPLEX_STREAMED,
            )
        ],
    )
    assert len(responses) == 1
    assert (
        set_headers(responses[0].request_headers.response.header_mutation)[
            "x-gateway-destination-endpoint"
        ]
        == IDLE
    )
