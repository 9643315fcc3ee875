"""The picker's own gRPC server, as built for production, takes a BUFFERED body in
one message up to the configured body limit: bodies above gRPC's default 4 MiB
message cap are routed, and bodies above the limit get the picker's 413."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import grpc
import orjson
import pytest
from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_pb
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as ext_grpc

from gie_cli.devstack.ports import free_port
from gie_picker.requestcontrol.director import Director
from gie_picker.server.grpc_server import build_grpc_server
from gie_picker.settings import PickerSettings
from tests.support.extproc_client import Mode, body_message, exchange, headers_message, set_headers
from tests.support.memory_director import memory_director

pytestmark = pytest.mark.integration

POOL = "test/grpc-limits"
A = "10.0.0.1:8000"
LIMIT = 6 * 1024 * 1024


@contextlib.asynccontextmanager
async def picker_server(director: Director) -> AsyncIterator[grpc.aio.Channel]:
    port = free_port()
    settings = PickerSettings(pool=POOL, grpc_port=port, max_body_bytes=LIMIT)
    server, _ = build_grpc_server(settings, director)
    await server.start()
    try:
        options = [("grpc.max_send_message_length", 2 * LIMIT)]
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
            yield channel
    finally:
        await server.stop(None)


def body_of(size: int) -> bytes:
    head = b'{"model": "m", "prompt": "'
    return head + b"x" * (size - len(head) - 2) + b'"}'


@pytest.mark.parametrize(
    ("size", "status"),
    [(5 * 1024 * 1024, 200), (LIMIT + 1024, 413)],
    ids=["above-grpc-default", "above-limit"],
)
async def test_a_large_buffered_body_is_routed_or_413_by_the_picker(size: int, status: int) -> None:
    parts = memory_director(POOL, A)
    headers = {":method": "POST", ":path": "/v1/completions"}
    async with picker_server(parts.director) as channel:
        responses = await exchange(
            channel,
            [
                headers_message(headers, end_of_stream=False, mode=Mode.BUFFERED),
                body_message(body_of(size), end_of_stream=True),
            ],
        )
    await parts.publisher.close()
    last = responses[-1]
    if status == 200:
        mutation = last.request_body.response.header_mutation
        assert set_headers(mutation)["x-gateway-destination-endpoint"] == A
    else:
        assert last.immediate_response.status.code == 413
        assert "exceeds" in orjson.loads(last.immediate_response.body)["error"]["message"]


async def test_a_request_whose_body_never_ends_gets_408_in_time() -> None:
    """A client trickling its body holds a stream only until GIE_REQUEST_TIMEOUT_S."""
    parts = memory_director(POOL, A)
    port = free_port()
    settings = PickerSettings(pool=POOL, grpc_port=port, request_timeout_s=0.5)
    server, _ = build_grpc_server(settings, parts.director)
    await server.start()
    headers = {":method": "POST", ":path": "/v1/completions"}

    async def requests() -> AsyncIterator[ext_pb.ProcessingRequest]:
        yield headers_message(headers, end_of_stream=False, mode=Mode.FULL_DUPLEX_STREAMED)
        yield body_message(b'{"model": "m", "prompt": "', end_of_stream=False)
        await asyncio.sleep(30)  # the rest never comes

    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = ext_grpc.ExternalProcessorStub(channel)
            started = time.monotonic()
            responses = [r async for r in stub.Process(requests())]
            took = time.monotonic() - started
    finally:
        await server.stop(None)
        await parts.publisher.close()
    assert responses[-1].immediate_response.status.code == 408
    message = orjson.loads(responses[-1].immediate_response.body)["error"]["message"]
    assert "request_timeout_s" in message
    assert took < 10  # ended by the picker, not by the client giving up
