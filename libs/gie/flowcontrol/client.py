"""FlowControlClient: the picker's side of ``FlowControl.Admit``, with failover.

One client holds a gRPC channel to every flow-controller replica. ``admit`` sends the
request to one replica (rotating the first choice per call) and, when that replica
cannot answer (it died, is shutting down, or lost Redis), sends the *same request id*
to the next one: Admit is idempotent per request id, so the retried call waits for the
same queued request and never queues or dispatches it twice.

Use from one event loop, as an async context manager; concurrent ``admit`` calls are
fine. Cancelling an ``admit`` cancels the call, which cancels the queued request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import grpc
import structlog

from gie.flowcontrol.errors import (
    FlowControlCallError,
    FlowControlStateLostError,
    FlowControlTimeoutError,
    FlowControlUnavailableError,
    InvalidAdmitRequestError,
)
from gie.flowcontrol.messages import AdmitRequest, AdmitResult
from gie.flowcontrol.v1 import flow_control_pb2_grpc as pb_grpc

_log = structlog.get_logger("gie.flowcontrol.client")

# Codes after which the same request id is sent to another replica.
RETRYABLE = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.INTERNAL,
    }
)
# Time the server gets past the request's deadline to answer EVICTED_TTL itself.
DEADLINE_GRACE_S = 2.0


class FlowControlClient:
    """Admit calls to a set of flow-controller replicas.

    ``targets`` are gRPC targets: ``host:port`` of each replica, or one name resolving
    to all of them (``dns:///flow-controller-headless.ns.svc:9004``). ``tls``: channel
    credentials (None: plaintext) and extra channel options (a server name override),
    as :func:`gie.tls.client_channel_credentials` gives them.
    """

    def __init__(
        self,
        targets: Sequence[str],
        *,
        max_rounds: int = 5,
        backoff_s: float = 0.05,
        max_backoff_s: float = 1.0,
        keepalive_s: float = 10.0,
        tls: tuple[grpc.ChannelCredentials | None, Sequence[tuple[str, str]]] = (None, ()),
    ) -> None:
        if not targets:
            raise ValueError("FlowControlClient needs at least one target")
        if max_rounds < 1:
            raise ValueError("max_rounds must be at least 1")
        options = [
            # A target naming several replicas (dns:///flow-controller-headless:9004)
            # spreads calls over them, and a retry goes to the next one.
            ("grpc.lb_policy_name", "round_robin"),
            ("grpc.keepalive_time_ms", int(keepalive_s * 1000)),
            ("grpc.keepalive_timeout_ms", int(keepalive_s * 500)),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.max_pings_without_data", 0),
        ]
        credentials, tls_options = tls
        options.extend(tls_options)
        self._targets = tuple(targets)
        self._channels = [
            grpc.aio.insecure_channel(t, options=options)
            if credentials is None
            else grpc.aio.secure_channel(t, credentials, options=options)
            for t in self._targets
        ]
        self._stubs = [pb_grpc.FlowControlStub(channel) for channel in self._channels]
        self._max_rounds = max_rounds
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._next = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await asyncio.gather(*(channel.close() for channel in self._channels))

    async def admit(self, request: AdmitRequest, *, timeout_s: float | None = None) -> AdmitResult:
        """Wait for the request's outcome, failing over between replicas.

        ``timeout_s`` bounds the whole call (all attempts); without it the request's
        deadline does (plus a grace for the server to answer EVICTED_TTL), and without
        either up to ``max_rounds`` passes over the replicas are made.

        Raises :class:`InvalidAdmitRequestError` when a replica rejects the request as
        malformed, :class:`FlowControlTimeoutError` when the time is up (or the request's
        TTL passed while its outcome could not be read), :class:`FlowControlStateLostError`
        when the flow state lost the queued request, and
        :class:`FlowControlUnavailableError` when no replica could answer.
        """
        loop = asyncio.get_running_loop()
        give_up_at = self._give_up_at(request, timeout_s, loop.time())
        message = request.to_proto()
        first, self._next = self._next, (self._next + 1) % len(self._stubs)
        delay = self._backoff_s
        last_error = "no attempt made"
        for attempt in range(self._max_rounds * len(self._stubs)):
            index = (first + attempt) % len(self._stubs)
            remaining = None if give_up_at is None else give_up_at - loop.time()
            if remaining is not None and remaining <= 0:
                raise FlowControlTimeoutError(f"no outcome for {request.request_id} in time")
            try:
                response = await self._stubs[index].Admit(message, timeout=remaining)
                return AdmitResult.from_proto(response)
            except grpc.aio.AioRpcError as exc:
                code = exc.code()
                if code == grpc.StatusCode.INVALID_ARGUMENT:
                    raise InvalidAdmitRequestError(exc.details() or "invalid request") from exc
                if code == grpc.StatusCode.DATA_LOSS:
                    raise FlowControlStateLostError(exc.details() or "request lost") from exc
                if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                    raise FlowControlTimeoutError(
                        f"no outcome for {request.request_id} in time: {exc.details()}"
                    ) from exc
                if code not in RETRYABLE:
                    detail = f"Admit failed: {code.name}: {exc.details()}"
                    raise FlowControlCallError(detail) from exc
                last_error = f"{self._targets[index]}: {code.name}: {exc.details()}"
                _log.info(
                    "flow-controller replica failed; trying the next",
                    request_id=request.request_id,
                    target=self._targets[index],
                    code=code.name,
                )
            if (attempt + 1) % len(self._stubs) == 0:  # every replica failed once: back off
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff_s)
        raise FlowControlUnavailableError(f"no flow-controller replica answered: {last_error}")

    @staticmethod
    def _give_up_at(request: AdmitRequest, timeout_s: float | None, now: float) -> float | None:
        if timeout_s is not None:
            return now + timeout_s
        if request.deadline is not None:
            left = (request.deadline - datetime.now(UTC)).total_seconds()
            return now + max(left, 0.0) + DEADLINE_GRACE_S
        return None
