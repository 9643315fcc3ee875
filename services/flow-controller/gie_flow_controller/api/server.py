"""The flow-controller's gRPC server: FlowControl plus the standard health service."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from gie.flowcontrol.v1 import flow_control_pb2_grpc as pb_grpc
from gie.tls import ReloadingServerCredentials
from gie_flow_controller.api.servicer import SERVICE_NAME, FlowControlServicer

_SERVING = health_pb2.HealthCheckResponse.SERVING
_NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING

# Waiting Admit calls are long-lived: let clients ping to detect dead connections.
_OPTIONS = [
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 5000),
    ("grpc.http2.max_ping_strikes", 0),
]


class FlowControlServer:
    """Serves FlowControl on ``host:port`` (port 0: any free port, see ``port``); with
    ``tls``, over TLS only (certificates reloaded on change)."""

    def __init__(
        self,
        servicer: FlowControlServicer,
        *,
        host: str,
        port: int,
        tls: ReloadingServerCredentials | None = None,
    ) -> None:
        self.tls = tls
        self._server = grpc.aio.server(options=_OPTIONS)
        pb_grpc.add_FlowControlServicer_to_server(servicer, self._server)
        self._health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        address = f"{host}:{port}"
        if tls is None:
            self.port = self._server.add_insecure_port(address)
        else:
            self.port = self._server.add_secure_port(address, tls.credentials())

    async def start(self) -> None:
        await self._server.start()
        await self.set_ready(False)

    async def set_ready(self, ready: bool) -> None:
        status = _SERVING if ready else _NOT_SERVING
        for name in ("", SERVICE_NAME):
            await self._health.set(name, status)

    async def stop(self, *, grace_s: float) -> None:
        await self._health.enter_graceful_shutdown()
        await self._server.stop(grace_s)
