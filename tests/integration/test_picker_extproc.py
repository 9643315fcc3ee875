"""The picker's ext_proc service, driven over a real gRPC channel as Envoy would."""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import grpc
import orjson
import pytest
from envoy.config.core.v3 import base_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_pb
from prometheus_client import CollectorRegistry

from gie.bus import EVENTS, BackgroundPublisher, BusMetrics, MemoryEventBus
from gie.events import (
    Endpoint,
    EndpointMetrics,
    EndpointMetricsObserved,
    EndpointRemoved,
    EndpointUpserted,
    Event,
    ObjectiveUpserted,
    RequestCompleted,
    RequestRouted,
)
from gie.saturation import SaturationConfig
from gie.view import InFlightView, PoolView
from gie_picker.config import default_config
from gie_picker.extproc import ExtProcServicer, add_servicer
from gie_picker.extproc.protocol import FULL_DUPLEX_STREAMED
from gie_picker.requestcontrol.director import Director
from gie_picker.telemetry.metrics import PickerMetrics
from gie_picker.wiring import configured_scheduler
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
    def __init__(
        self,
        view: PoolView,
        channel: grpc.aio.Channel,
        bus: MemoryEventBus,
        publisher: BackgroundPublisher,
    ) -> None:
        self.view = view
        self.channel = channel
        self.bus = bus
        self.publisher = publisher

    async def published(self) -> list[Event]:
        await self.publisher.close()
        return self.bus.stored(EVENTS)


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
    bus = MemoryEventBus()
    publisher = BackgroundPublisher(bus, metrics=BusMetrics(None))
    publisher.start()
    director = Director(
        view=view,
        scheduler=configured_scheduler(
            default_config(),
            registry=CollectorRegistry(),
            inflight=InFlightView(POOL),
            rng=random.Random(1),
        ),
        saturation=SaturationConfig(),
        publisher=publisher,
        metrics=PickerMetrics(CollectorRegistry()),
        source="picker-test",
        now=lambda: datetime.now(UTC),
    )
    async with serving(director) as channel:
        yield Picker(view, channel, bus, publisher)


@contextlib.asynccontextmanager
async def serving(director: Director) -> AsyncIterator[grpc.aio.Channel]:
    """The ext_proc service on a free port, and a channel to it."""
    server = grpc.aio.server()
    add_servicer(
        server,
        ExtProcServicer(
            director, max_body_bytes=MAX_BODY, chunk_bytes=CHUNK, default_mode=FULL_DUPLEX_STREAMED
        ),
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel
    finally:
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


def routed_destination(response: object) -> str:
    mutation = response.request_headers.response.header_mutation  # type: ignore[attr-defined]
    return set_headers(mutation)["x-gateway-destination-endpoint"]


def subset_message(headers: dict[str, str], subset: list[str]) -> object:
    message = headers_message(headers, end_of_stream=False, mode=Mode.FULL_DUPLEX_STREAMED)
    message.metadata_context.filter_metadata["envoy.lb.subset_hint"].update(
        {"x-gateway-destination-endpoint-subset": subset}
    )
    return message


async def test_subset_hint_restricts_candidates_by_ip_and_port(picker: Picker) -> None:
    # BUSY has the longer queue, but it is the only subset member: it must be chosen.
    # A member with the right IP and another port must not match.
    responses = await exchange(
        picker.channel,
        [
            subset_message(request_headers(), [BUSY, "10.0.0.2:9999"]),  # type: ignore[list-item]
            body_message(completion(), end_of_stream=True),
        ],
    )
    assert routed_destination(responses[0]) == BUSY


@pytest.mark.parametrize(
    "subset", [[], ["10.9.9.9:8000"], ["10.0.0.2:1"]], ids=["empty", "unknown", "ip-only-match"]
)
async def test_subset_without_eligible_member_is_503(picker: Picker, subset: list[str]) -> None:
    responses = await exchange(
        picker.channel,
        [
            subset_message(request_headers(), subset),  # type: ignore[list-item]
            body_message(completion(), end_of_stream=True),
        ],
    )
    assert responses[0].immediate_response.status.code == 503
    assert b"subset" in responses[0].immediate_response.body


async def test_model_rewrite_changes_body_and_content_length(picker: Picker) -> None:
    body = completion()
    responses = await exchange(
        picker.channel,
        [
            headers_message(
                request_headers(
                    **{
                        "x-gateway-model-name-rewrite": "sim-llama-v2",
                        "content-length": str(len(body)),
                    }
                ),
                end_of_stream=False,
                mode=Mode.FULL_DUPLEX_STREAMED,
            ),
            body_message(body, end_of_stream=True),
        ],
    )
    mutation = responses[0].request_headers.response.header_mutation
    sent = b"".join(
        r.request_body.response.body_mutation.streamed_response.body for r in responses[1:]
    )
    assert orjson.loads(sent)["model"] == "sim-llama-v2"
    assert set_headers(mutation)["content-length"] == str(len(sent))
    assert "x-gateway-model-name-rewrite" in mutation.remove_headers


def response_headers_message(status: int, content_type: str, served: str | None) -> object:
    message = ext_pb.ProcessingRequest(
        response_headers=ext_pb.HttpHeaders(
            headers=base_pb2.HeaderMap(
                headers=[
                    base_pb2.HeaderValue(key=":status", raw_value=str(status).encode()),
                    base_pb2.HeaderValue(key="content-type", raw_value=content_type.encode()),
                ]
            )
        )
    )
    if served:
        message.metadata_context.filter_metadata["envoy.lb"].update(
            {"x-gateway-destination-endpoint-served": served}
        )
    return message


def response_body_message(chunk: bytes, *, end_of_stream: bool) -> object:
    return ext_pb.ProcessingRequest(
        response_body=ext_pb.HttpBody(body=chunk, end_of_stream=end_of_stream)
    )


@pytest.mark.parametrize("streaming", [False, True], ids=["json", "sse"])
async def test_response_usage_and_served_endpoint_become_request_completed(
    picker: Picker, streaming: bool
) -> None:
    usage = {
        "prompt_tokens": 7,
        "completion_tokens": 3,
        "total_tokens": 10,
        "prompt_tokens_details": {"cached_tokens": 4},
    }
    if streaming:
        body = (
            b'data: {"choices":[{"text":"a"}]}\n\n'
            + b"data: "
            + orjson.dumps({"choices": [], "usage": usage})
            + b"\n\n"
            + b"data: [DONE]\n\n"
        )
        content_type = "text/event-stream"
    else:
        body = orjson.dumps({"choices": [{"text": "abc"}], "usage": usage})
        content_type = "application/json"
    start = headers_message(
        request_headers(**{"x-request-id": "req-9"}),
        end_of_stream=False,
        mode=Mode.FULL_DUPLEX_STREAMED,
    )
    start.protocol_config.response_body_mode = Mode.FULL_DUPLEX_STREAMED  # type: ignore[assignment]
    half = len(body) // 2
    responses = await exchange(
        picker.channel,
        [
            start,
            body_message(completion(), end_of_stream=True),
            response_headers_message(200, content_type, served=IDLE),  # type: ignore[list-item]
            response_body_message(body[:half], end_of_stream=False),  # type: ignore[list-item]
            response_body_message(body[half:], end_of_stream=True),  # type: ignore[list-item]
        ],
    )
    echoed = b"".join(
        r.response_body.response.body_mutation.streamed_response.body
        for r in responses
        if r.WhichOneof("response") == "response_body"
    )
    assert echoed == body  # the response passes through unchanged
    events = await picker.published()
    routed = [e for e in events if isinstance(e, RequestRouted)]
    completed = [e for e in events if isinstance(e, RequestCompleted)]
    assert [e.request_id for e in routed] == ["req-9"]
    assert len(completed) == 1
    done = completed[0]
    assert (done.request_id, done.target, done.status) == ("req-9", IDLE, 200)
    assert (done.prompt_tokens, done.completion_tokens, done.cached_tokens) == (7, 3, 4)


def saturate(view: PoolView) -> None:
    for address in (BUSY, IDLE):
        view.apply(
            EndpointMetricsObserved(
                source="t",
                pool=POOL,
                address=address,
                scraped_at=datetime.now(UTC),
                metrics=EndpointMetrics(
                    waiting_queue_size=50, running_requests=9, kv_cache_usage=0.99
                ),
            )
        )


@pytest.mark.parametrize(
    ("objective", "priority", "status"),
    [("batch", -1, 429), ("critical", 5, None), ("unknown", None, None)],
    ids=["sheddable-shed", "critical-routed", "unknown-objective-routed"],
)
async def test_saturation_sheds_only_sheddable_objectives(
    picker: Picker, objective: str, priority: int | None, status: int | None
) -> None:
    if priority is not None:
        picker.view.apply(
            ObjectiveUpserted(source="t", pool=POOL, name=objective, priority=priority)
        )
    saturate(picker.view)
    responses = await exchange(
        picker.channel,
        [
            headers_message(
                request_headers(**{"x-gateway-inference-objective": objective}),
                end_of_stream=False,
                mode=Mode.FULL_DUPLEX_STREAMED,
            ),
            body_message(completion(), end_of_stream=True),
        ],
    )
    if status is None:
        assert routed_destination(responses[0]) in (BUSY, IDLE)
    else:
        assert responses[0].immediate_response.status.code == status
        assert b"saturated" in responses[0].immediate_response.body


class BrokenScheduler:
    def schedule(self, request: object, candidates: object, *, priority: int) -> tuple[str, ...]:
        raise RuntimeError("scorer bug")


async def test_an_internal_error_is_500_and_the_server_keeps_serving() -> None:
    view = PoolView(POOL)
    view.apply(EndpointUpserted(source="t", pool=POOL, endpoint=Endpoint(address=IDLE)))
    director = Director(
        view=view,
        scheduler=BrokenScheduler(),
        saturation=SaturationConfig(),
        publisher=None,
        metrics=PickerMetrics(CollectorRegistry()),
        source="picker-test",
        now=lambda: datetime.now(UTC),
    )
    async with serving(director) as channel:
        for _ in range(2):  # the second request proves the server survived the first
            responses = await exchange(
                channel,
                [
                    headers_message(
                        request_headers(), end_of_stream=False, mode=Mode.FULL_DUPLEX_STREAMED
                    ),
                    body_message(completion(), end_of_stream=True),
                ],
            )
            assert responses[0].immediate_response.status.code == 500
            assert b"internal error" in responses[0].immediate_response.body
