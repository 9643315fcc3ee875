"""The gRPC access-log service that receives the gateway's completion records.

Envoy's ``envoy.access_loggers.http_grpc`` keeps one stream per worker thread
open to this service and sends the records of finished requests in batches (one
``StreamAccessLogsMessage`` per flush). Each record of a request a picker routed
becomes ``RequestCompleted`` through the director, on the event loop, as the
routing decisions are made; what it says of the endpoints' failures goes to
:class:`~gie_picker.health.EndpointHealth`.

A stream that ends while the picker serves is counted and logged: the gateway
opens a new one with its next batch, but the records it held when the stream
broke are gone, and the requests they would have completed stay in flight until
the in-flight TTL (``GIE_INFLIGHT_TTL_S``) drops them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

import grpc
import structlog
from envoy.data.accesslog.v3 import accesslog_pb2
from envoy.service.accesslog.v3 import als_pb2
from envoy.service.accesslog.v3 import als_pb2_grpc as als_grpc

from gie_picker.completions.metrics import RecordMetrics
from gie_picker.completions.records import RecordError, is_final, read_record
from gie_picker.health import EndpointHealth
from gie_picker.requestcontrol.usage import Usage

_log = structlog.get_logger("gie.picker")

SERVICE_NAME = "envoy.service.accesslog.v3.AccessLogService"


class Completer(Protocol):
    def request_completed(
        self,
        request_id: str,
        *,
        model: str,
        target_model: str,
        served: str,
        status: int,
        usage: Usage | None,
        duration_s: float,
        traceparent: str | None = None,
    ) -> None:
        """Publish the request's ``RequestCompleted``; MUST be called on the view's loop."""


class CompletionRecordService(als_grpc.AccessLogServiceServicer):  # type: ignore[misc]
    """Turns access-log records into completions; MUST run on the view's event loop."""

    def __init__(
        self,
        completer: Completer,
        metrics: RecordMetrics,
        *,
        health: EndpointHealth | None = None,
    ) -> None:
        self._completer = completer
        self._metrics = metrics
        self._health = health
        self._stopping = False

    def stop(self) -> None:
        """The picker is shutting down: streams ending from now on are not lost."""
        self._stopping = True

    async def StreamAccessLogs(
        self,
        request_iterator: AsyncIterator[als_pb2.StreamAccessLogsMessage],
        context: grpc.aio.ServicerContext[
            als_pb2.StreamAccessLogsMessage, als_pb2.StreamAccessLogsResponse
        ],
    ) -> als_pb2.StreamAccessLogsResponse:
        metrics = self._metrics
        metrics.streams.inc()
        log_name = ""
        try:
            async for message in request_iterator:
                if message.HasField("identifier"):
                    log_name = message.identifier.log_name
                    _log.info("completion record stream opened", log_name=log_name)
                metrics.batches.inc()
                for entry in message.http_logs.log_entry:
                    self._on_entry(entry)
        finally:
            metrics.streams.dec()
            if not self._stopping:
                metrics.streams_lost.inc()
                _log.warning(
                    "completion record stream ended; records the gateway held are lost",
                    log_name=log_name,
                )
        return als_pb2.StreamAccessLogsResponse()

    def _on_entry(self, entry: accesslog_pb2.HTTPAccessLogEntry) -> None:
        if not is_final(entry):
            self._metrics.intermediate.inc()
            return
        try:
            record = read_record(entry)
        except RecordError as error:
            self._metrics.invalid.inc()
            _log.warning("unusable completion record", error=str(error))
            return
        if record is None:
            self._metrics.unrouted.inc()
            return
        self._metrics.completed.inc()
        self._completer.request_completed(
            record.request_id,
            model=record.model,
            target_model=record.target_model,
            served=record.served,
            status=record.status,
            usage=record.usage,
            duration_s=record.duration_s,
            traceparent=record.traceparent,
        )
        if self._health is not None:  # failures eject the endpoint for a while
            self._health.observe(record)


def add_record_service(server: grpc.aio.Server, service: CompletionRecordService) -> None:
    als_grpc.add_AccessLogServiceServicer_to_server(service, server)
