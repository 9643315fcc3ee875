"""Message sequences Envoy sends that the common cases do not: an empty body after
headers without end-of-stream, a BUFFERED body followed by trailers, an empty
``x-request-id``. Each must get exactly the answer Envoy waits for."""

from __future__ import annotations

import pytest
from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_pb

from gie.bus import EVENTS
from gie.events import RequestRouted
from gie_picker.extproc import protocol
from gie_picker.extproc.request_stream import RequestStream
from tests.support.extproc_client import Mode, body_message, headers_message, set_headers
from tests.support.memory_director import MemoryDirector, memory_director

POOL = "test/stream-edges"
A = "10.0.0.1:8000"
BODY = b'{"model": "m", "prompt": "hi"}'
HEADERS = {":method": "POST", ":path": "/v1/completions", "x-request-id": "edge-1"}


def stream_of(parts: MemoryDirector, mode: int) -> RequestStream:
    return RequestStream(
        parts.director, max_body_bytes=1 << 20, chunk_bytes=62_000, default_mode=mode
    )


def kinds(responses: list[ext_pb.ProcessingResponse]) -> list[str | None]:
    return [r.WhichOneof("response") for r in responses]


async def test_an_empty_full_duplex_body_gets_the_held_headers_and_an_ended_body() -> None:
    parts = memory_director(POOL, A)
    stream = stream_of(parts, protocol.FULL_DUPLEX_STREAMED)
    assert await stream.on_message(headers_message(HEADERS, end_of_stream=False)) == []
    responses = await stream.on_message(body_message(b"", end_of_stream=True))
    assert kinds(responses) == ["request_headers", "request_body"]
    routed = set_headers(responses[0].request_headers.response.header_mutation)
    assert routed["x-gateway-destination-endpoint"] == A
    chunk = responses[1].request_body.response.body_mutation.streamed_response
    assert chunk.body == b"" and chunk.end_of_stream  # the upstream request ends
    await parts.publisher.close()


async def test_an_empty_buffered_body_is_answered_on_the_body() -> None:
    parts = memory_director(POOL, A)
    stream = stream_of(parts, protocol.FULL_DUPLEX_STREAMED)
    first = await stream.on_message(
        headers_message(HEADERS, end_of_stream=False, mode=Mode.BUFFERED)
    )
    assert kinds(first) == ["request_headers"]
    responses = await stream.on_message(body_message(b"", end_of_stream=True))
    assert kinds(responses) == ["request_body"]
    routed = set_headers(responses[0].request_body.response.header_mutation)
    assert routed["x-gateway-destination-endpoint"] == A
    await parts.publisher.close()


async def test_a_buffered_body_before_trailers_is_routed_on_the_body() -> None:
    parts = memory_director(POOL, A)
    stream = stream_of(parts, protocol.BUFFERED)
    await stream.on_message(headers_message(HEADERS, end_of_stream=False, mode=Mode.BUFFERED))
    # With trailers to come, Envoy's one buffered body message has no end_of_stream.
    responses = await stream.on_message(body_message(BODY, end_of_stream=False))
    assert kinds(responses) == ["request_body"]
    assert (
        set_headers(responses[0].request_body.response.header_mutation)[
            "x-gateway-destination-endpoint"
        ]
        == A
    )
    trailers = ext_pb.ProcessingRequest(request_trailers=ext_pb.HttpTrailers())
    assert kinds(await stream.on_message(trailers)) == ["request_trailers"]
    await parts.publisher.close()
    routed = [e for e in parts.bus.stored(EVENTS) if isinstance(e, RequestRouted)]
    assert [e.request_id for e in routed] == ["edge-1"]  # routed once


@pytest.mark.parametrize("sent", ["", None], ids=["empty", "missing"])
async def test_a_request_id_is_generated_and_sent_upstream(sent: str | None) -> None:
    parts = memory_director(POOL, A)
    stream = stream_of(parts, protocol.FULL_DUPLEX_STREAMED)
    headers = {k: v for k, v in HEADERS.items() if k != "x-request-id"}
    if sent is not None:
        headers["x-request-id"] = sent
    await stream.on_message(headers_message(headers, end_of_stream=False))
    responses = await stream.on_message(body_message(BODY, end_of_stream=True))
    upstream_id = set_headers(responses[0].request_headers.response.header_mutation)["x-request-id"]
    await parts.publisher.close()
    (routed,) = [e for e in parts.bus.stored(EVENTS) if isinstance(e, RequestRouted)]
    assert upstream_id and upstream_id == routed.request_id


@pytest.mark.parametrize(
    "mode",
    [Mode.NONE, Mode.STREAMED, Mode.BUFFERED_PARTIAL],
    ids=["none", "streamed", "buffered-partial"],
)
async def test_a_body_mode_the_picker_cannot_route_with_is_refused_naming_it(mode: int) -> None:
    """NONE sends no body (the request would go upstream unrouted); STREAMED and
    BUFFERED_PARTIAL leave the picker either unanswered or routing on part of it."""
    parts = memory_director(POOL, A)
    stream = stream_of(parts, protocol.FULL_DUPLEX_STREAMED)
    responses = await stream.on_message(headers_message(HEADERS, end_of_stream=False, mode=mode))
    assert kinds(responses) == ["immediate_response"]
    answer = responses[0].immediate_response
    assert answer.status.code == 500
    name = protocol.BodyMode.Name(mode)
    assert (
        name in answer.body.decode() and "FULL_DUPLEX_STREAMED or BUFFERED" in answer.body.decode()
    )
    await parts.publisher.close()
    assert [e for e in parts.bus.stored(EVENTS) if isinstance(e, RequestRouted)] == []
