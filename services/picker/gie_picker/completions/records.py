"""One gateway access-log record read as the end of a routed request.

The record (``envoy.data.accesslog.v3.HTTPAccessLogEntry``) carries what the
picker used to read from the response stream: the status, the upstream host, the
duration, and in its dynamic metadata the routing answer (``envoy.lb``: the
destination, and the served endpoint when the gateway reports it), the request's
names (``gie.route``) and the usage the gateway read from the body (``gie.usage``).
A record without ``gie.route`` is a request no picker routed (answered by the
picker itself, or let through by a fail-open gateway): it is not a completion.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from envoy.data.accesslog.v3 import accesslog_pb2
from google.protobuf import duration_pb2, struct_pb2

from gie.completion_records import (
    CACHED_TOKENS_KEY,
    COMPLETION_TOKENS_KEY,
    MODEL_KEY,
    PROMPT_TOKENS_KEY,
    REQUEST_ID_KEY,
    ROUTE_NAMESPACE,
    TARGET_MODEL_KEY,
    USAGE_NAMESPACE,
)
from gie.epp_protocol import DESTINATION_HEADER, LB_NAMESPACE, SERVED_KEY
from gie.events.address import validate_address
from gie_picker.requestcontrol.usage import Usage

__all__ = ["CompletionRecord", "RecordError", "is_final", "read_record"]


class RecordError(ValueError):
    """A record names a routed request but cannot be read; the message names the field."""


@dataclass(frozen=True, slots=True)
class CompletionRecord:
    request_id: str
    model: str
    target_model: str
    endpoints: tuple[str, ...]  # the picker's answer: primary first
    served: str  # the endpoint that served, one of ``endpoints``
    status: int  # 0: no complete response (reset, disconnect, timeout)
    usage: Usage | None
    duration_s: float
    traceparent: str | None = None  # the request's trace context, when logged
    # How ``served`` failed the request, when it did: connect_failure, reset, http_5xx.
    failure: str | None = None
    # Endpoints the gateway tried before ``served`` (each failed the request).
    failed_first: tuple[str, ...] = ()


_MAX_NAME = 1024  # longest request id a record may carry

# A response cut short by any of these did not complete, whatever its status said.
_ENDED_EARLY = (
    "downstream_connection_termination",
    "downstream_remote_reset",
    "upstream_remote_reset",
    "upstream_connection_termination",
    "upstream_connection_failure",
    "upstream_request_timeout",
    "stream_idle_timeout",
    "local_reset",
    "upstream_max_stream_duration_reached",
    "duration_timeout",
    "upstream_protocol_error",
    "downstream_protocol_error",
    "overload_manager",
)
# Records written when a request ends (NotSet: an Envoy that does not say).
_FINAL_TYPES = frozenset(
    {accesslog_pb2.AccessLogType.NotSet, accesslog_pb2.AccessLogType.DownstreamEnd}
)


def is_final(entry: accesslog_pb2.HTTPAccessLogEntry) -> bool:
    """False for a record Envoy writes while the request still goes on (periodic
    logging, ``access_log_flush_interval``): it must not complete the request."""
    common = entry.common_properties
    return not common.intermediate_log_entry and common.access_log_type in _FINAL_TYPES


def _text(fields: Mapping[str, struct_pb2.Value], key: str) -> str:
    value = fields.get(key)
    return value.string_value if value is not None else ""


def _count(fields: Mapping[str, struct_pb2.Value], key: str) -> int | None:
    value = fields.get(key)
    if value is None or value.WhichOneof("kind") != "number_value":
        return None
    number = value.number_value
    if not math.isfinite(number) or number < 0 or number != int(number):
        return None
    return int(number)


def _usage(metadata: struct_pb2.Struct | None) -> Usage | None:
    if metadata is None:
        return None
    fields = metadata.fields
    usage = Usage(
        _count(fields, PROMPT_TOKENS_KEY),
        _count(fields, COMPLETION_TOKENS_KEY),
        _count(fields, CACHED_TOKENS_KEY),
    )
    return None if usage == Usage() else usage


def _address(common: accesslog_pb2.AccessLogCommon) -> str:
    if not common.HasField("upstream_remote_address"):
        return ""
    socket = common.upstream_remote_address.socket_address
    return f"{socket.address}:{socket.port_value}" if socket.address else ""


def _duration_s(common: accesslog_pb2.AccessLogCommon) -> float:
    for name in ("duration", "time_to_last_downstream_tx_byte"):
        if common.HasField(name):
            value: duration_pb2.Duration = getattr(common, name)
            return max(value.seconds + value.nanos / 1e9, 0.0)
    return 0.0


def _failure(common: accesslog_pb2.AccessLogCommon, status: int) -> str | None:
    """How the served endpoint failed the request, or None (success, or not its fault)."""
    flags = common.response_flags
    if flags.upstream_connection_failure:
        return "connect_failure"
    if flags.upstream_remote_reset or flags.upstream_connection_termination:
        return "reset"
    # A 5xx the endpoint itself sent (Envoy's own answers name no upstream host).
    if 500 <= status <= 599 and _address(common):
        return "http_5xx"
    return None


def _failed_first(
    common: accesslog_pb2.AccessLogCommon, endpoints: tuple[str, ...], served: str
) -> tuple[str, ...]:
    """The endpoints the gateway tried, in the picker's order, before ``served``."""
    attempts = common.upstream_request_attempt_count
    if attempts < 2 or served not in endpoints:
        return ()
    return endpoints[: min(endpoints.index(served), attempts - 1)]


def read_record(entry: accesslog_pb2.HTTPAccessLogEntry) -> CompletionRecord | None:
    """The completion ``entry`` reports, or None when no picker routed it.

    Raises :class:`RecordError` when the record names a routed request without a
    usable request id or destination.
    """
    common = entry.common_properties
    metadata = common.metadata.filter_metadata
    route = metadata.get(ROUTE_NAMESPACE)
    if route is None:
        return None
    request_id = _text(route.fields, REQUEST_ID_KEY)
    if not request_id or len(request_id) > _MAX_NAME:
        raise RecordError(
            f"{ROUTE_NAMESPACE}.{REQUEST_ID_KEY} is missing, empty or over {_MAX_NAME} characters"
        )
    lb = metadata.get(LB_NAMESPACE)
    destination = _text(lb.fields, DESTINATION_HEADER) if lb is not None else ""
    endpoints = tuple(part.strip() for part in destination.split(",") if part.strip())
    if not endpoints:
        raise RecordError(f"{LB_NAMESPACE}.{DESTINATION_HEADER} is missing or empty")
    reported = _text(lb.fields, SERVED_KEY).strip() if lb is not None else ""
    served = next((e for e in (reported, _address(common)) if e in endpoints), endpoints[0])
    try:
        validate_address(served)
    except ValueError as error:
        raise RecordError(f"{LB_NAMESPACE}.{DESTINATION_HEADER}: {error}") from error
    answered = entry.response.response_code.value
    status = answered
    flags = common.response_flags
    if status > 999 or any(getattr(flags, flag) for flag in _ENDED_EARLY):
        status = 0
    return CompletionRecord(
        request_id=request_id,
        model=_text(route.fields, MODEL_KEY),
        target_model=_text(route.fields, TARGET_MODEL_KEY),
        endpoints=endpoints,
        served=served,
        status=status,
        usage=_usage(metadata.get(USAGE_NAMESPACE)),
        duration_s=_duration_s(common),
        traceparent=entry.request.request_headers.get("traceparent"),
        failure=_failure(common, answered),
        failed_first=_failed_first(common, endpoints, served),
    )
