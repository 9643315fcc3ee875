"""The gRPC ExternalProcessor service: one RequestStream per Envoy stream."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import structlog
from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_pb
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as ext_grpc

from gie_picker.extproc import protocol
from gie_picker.extproc.request_stream import RequestStream
from gie_picker.routing import Router

_log = structlog.get_logger("gie.picker")


class ExtProcServicer(ext_grpc.ExternalProcessorServicer):  # type: ignore[misc]
    def __init__(
        self,
        router: Router,
        *,
        max_body_bytes: int,
        chunk_bytes: int,
        default_mode: protocol.BodyMode,
    ) -> None:
        self._router = router
        self._max_body_bytes = max_body_bytes
        self._chunk_bytes = chunk_bytes
        self._default_mode = default_mode

    async def Process(
        self,
        request_iterator: AsyncIterator[ext_pb.ProcessingRequest],
        context: grpc.aio.ServicerContext[ext_pb.ProcessingRequest, ext_pb.ProcessingResponse],
    ) -> AsyncIterator[ext_pb.ProcessingResponse]:
        stream = RequestStream(
            self._router,
            max_body_bytes=self._max_body_bytes,
            chunk_bytes=self._chunk_bytes,
            default_mode=self._default_mode,
        )
        async for message in request_iterator:
            for response in stream.on_message(message):
                yield response
            if stream.done:
                return


def add_servicer(server: grpc.aio.Server, servicer: ExtProcServicer) -> None:
    ext_grpc.add_ExternalProcessorServicer_to_server(servicer, server)
