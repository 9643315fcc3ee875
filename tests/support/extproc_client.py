"""Drive the picker's ext_proc service as Envoy would, over a real gRPC channel."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import grpc
from envoy.config.core.v3 import base_pb2
from envoy.extensions.filters.http.ext_proc.v3 import processing_mode_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_pb
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as ext_grpc

Mode = processing_mode_pb2.ProcessingMode


def headers_message(
    headers: dict[str, str], *, end_of_stream: bool, mode: int | None = None
) -> ext_pb.ProcessingRequest:
    message = ext_pb.ProcessingRequest(
        request_headers=ext_pb.HttpHeaders(
            headers=base_pb2.HeaderMap(
                headers=[
                    base_pb2.HeaderValue(key=k, raw_value=v.encode()) for k, v in headers.items()
                ]
            ),
            end_of_stream=end_of_stream,
        )
    )
    if mode is not None:
        message.protocol_config.request_body_mode = mode  # type: ignore[assignment]
    return message


def body_message(chunk: bytes, *, end_of_stream: bool) -> ext_pb.ProcessingRequest:
    return ext_pb.ProcessingRequest(
        request_body=ext_pb.HttpBody(body=chunk, end_of_stream=end_of_stream)
    )


async def exchange(
    channel: grpc.aio.Channel, messages: Sequence[ext_pb.ProcessingRequest]
) -> list[ext_pb.ProcessingResponse]:
    """Send every message, then half-close; return every response."""

    async def requests() -> AsyncIterator[ext_pb.ProcessingRequest]:
        for message in messages:
            yield message

    stub = ext_grpc.ExternalProcessorStub(channel)
    return [response async for response in stub.Process(requests())]


def set_headers(mutation: ext_pb.HeaderMutation) -> dict[str, str]:
    return {h.header.key: h.header.raw_value.decode() for h in mutation.set_headers}
