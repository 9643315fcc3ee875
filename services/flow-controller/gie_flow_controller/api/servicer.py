"""The ``gie.flowcontrol.v1.FlowControl`` gRPC service.

Maps the Admit call onto the :class:`~gie_flow_controller.admission.Admitter` and its
errors onto status codes: a malformed request is INVALID_ARGUMENT; a request for
another pool is FAILED_PRECONDITION (the deployment is wrong, not the request); a replica that
cannot reach Redis or is shutting down answers UNAVAILABLE, and the client retries the
same request id on another replica. A queued request Redis lost is DATA_LOSS, one whose
TTL passed while its outcome could not be read DEADLINE_EXCEEDED: not retried. The
call's own gRPC deadline bounds the wait like the request's deadline does.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
import structlog

from gie.flowcontrol import AdmitRequest, InvalidAdmitRequestError
from gie.flowcontrol.v1 import flow_control_pb2 as pb
from gie.flowcontrol.v1 import flow_control_pb2_grpc as pb_grpc
from gie_flow_controller.admission import Admitter
from gie_flow_controller.errors import (
    DrainingError,
    LayoutChangedError,
    NoOutcomeError,
    RequestLostError,
    StoreError,
)

_log = structlog.get_logger("gie.flow_controller.api")

SERVICE_NAME = "gie.flowcontrol.v1.FlowControl"


def _ignore(*_: object) -> None:
    pass


Context = grpc.aio.ServicerContext[pb.AdmitRequest, pb.AdmitResponse]


class FlowControlServicer(pb_grpc.FlowControlServicer):
    def __init__(
        self,
        admitter: Admitter,
        *,
        pool: str,
        on_unavailable: Callable[[], None] = _ignore,
        on_layout_changed: Callable[[str], None] = _ignore,
    ) -> None:
        self._admitter = admitter
        self._pool = pool
        self._on_unavailable = on_unavailable
        self._on_layout_changed = on_layout_changed

    async def Admit(self, request: pb.AdmitRequest, context: Context) -> pb.AdmitResponse:
        try:
            admit = AdmitRequest.from_proto(request)
        except InvalidAdmitRequestError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        if admit.pool and admit.pool != self._pool:
            _log.warning("admit for another pool refused", pool=self._pool, asked=admit.pool)
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"this flow-controller serves pool {self._pool}, not {admit.pool}",
            )
        remaining = context.time_remaining()
        deadline_ms = None
        if remaining is not None:
            deadline_ms = time.time_ns() // 1_000_000 + round(remaining * 1000)
        try:
            result = await self._admitter.admit(admit, deadline_ms=deadline_ms)
        except DrainingError as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        except RequestLostError as exc:
            await context.abort(grpc.StatusCode.DATA_LOSS, str(exc))
        except NoOutcomeError as exc:
            _log.warning("admit timed out", request_id=admit.request_id, error=str(exc))
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, str(exc))
        except LayoutChangedError as exc:
            _log.error("admit refused: shard layout changed", error=str(exc))
            self._on_layout_changed(str(exc))
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        except StoreError as exc:
            _log.warning("admit failed", request_id=admit.request_id, error=str(exc))
            self._on_unavailable()
            await context.abort(grpc.StatusCode.UNAVAILABLE, f"flow state unavailable: {exc}")
        return result.to_proto()
