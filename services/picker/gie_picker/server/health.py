"""The gRPC health service upstream EPPs expose (liveness, readiness, ext_proc)."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from gie_picker.extproc.servicer import SERVICE_NAME

_SERVING = health_pb2.HealthCheckResponse.SERVING
_NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class GrpcHealth:
    """``liveness`` serves from start; ``readiness`` and ext_proc once the view caught up."""

    def __init__(self, server: grpc.aio.Server) -> None:
        self._servicer = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._servicer, server)

    async def start(self) -> None:
        await self._servicer.set("liveness", _SERVING)
        await self.set_ready(False)

    async def set_ready(self, ready: bool) -> None:
        status = _SERVING if ready else _NOT_SERVING
        for name in ("", "readiness", SERVICE_NAME):
            await self._servicer.set(name, status)

    async def stop(self) -> None:
        await self._servicer.enter_graceful_shutdown()
