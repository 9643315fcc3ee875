"""The gRPC ExternalProcessor service: one RequestStream per Envoy stream.

A request's headers and whole body must arrive within ``request_timeout_s`` of the
stream's start (a client trickling its body would otherwise hold a stream and up to the
body limit of memory for as long as Envoy lets it): past it the picker answers 408 and
ends the stream. The response phase is not limited here (it lasts as long as the model
server streams).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import structlog
from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_pb
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as ext_grpc

from gie_picker.extproc import protocol
from gie_picker.extproc.request_stream import RequestStream
from gie_picker.requestcontrol.director import Director

_log = structlog.get_logger("gie.picker")

SERVICE_NAME = "envoy.service.ext_proc.v3.ExternalProcessor"


class ExtProcServicer(ext_grpc.ExternalProcessorServicer):  # type: ignore[misc]
    def __init__(
        self,
        director: Director,
        *,
        max_body_bytes: int,
        chunk_bytes: int,
        default_mode: protocol.BodyMode,
        completion_records: bool = False,
        request_timeout_s: float = 60.0,
    ) -> None:
        self._director = director
        self._request_timeout_s = request_timeout_s
        self._completion_records = completion_records
        self._max_body_bytes = max_body_bytes
        self._chunk_bytes = chunk_bytes
        self._default_mode = default_mode

    async def Process(
        self,
        request_iterator: AsyncIterator[ext_pb.ProcessingRequest],
        context: grpc.aio.ServicerContext[ext_pb.ProcessingRequest, ext_pb.ProcessingResponse],
    ) -> AsyncIterator[ext_pb.ProcessingResponse]:
        stream = RequestStream(
            self._director,
            max_body_bytes=self._max_body_bytes,
            chunk_bytes=self._chunk_bytes,
            default_mode=self._default_mode,
            completion_records=self._completion_records,
        )
        messages = aiter(request_iterator)
        deadline = asyncio.get_running_loop().time() + self._request_timeout_s
        try:
            while True:
                try:
                    if stream.request_finished:
                        message = await anext(messages)
                    else:
                        async with asyncio.timeout_at(deadline):
                            message = await anext(messages)
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    _log.warning(
                        "request not received in time",
                        request_timeout_s=self._request_timeout_s,
                        request_id=stream.request_id,
                    )
                    self._director.metrics.rejected.labels("408").inc()
                    yield protocol.immediate_response(
                        408,
                        f"request headers and body not received within "
                        f"{self._request_timeout_s} s (request_timeout_s)",
                    )
                    return
                try:
                    responses = await stream.on_message(message)
                except Exception:  # stream boundary: answer 500, never crash the server
                    _log.exception("internal error while processing a request")
                    self._director.metrics.rejected.labels("500").inc()
                    yield protocol.immediate_response(500, "internal error in the endpoint picker")
                    return
                for response in responses:
                    yield response
                if stream.done:
                    return
        finally:
            stream.close()


def add_servicer(server: grpc.aio.Server, servicer: ExtProcServicer) -> None:
    ext_grpc.add_ExternalProcessorServicer_to_server(servicer, server)
