"""read_record: one gateway access-log record read as the end of a routed request."""

from __future__ import annotations

import pytest
from envoy.data.accesslog.v3 import accesslog_pb2
from google.protobuf import struct_pb2

from gie_picker.completions import CompletionRecord, RecordError, read_record
from gie_picker.completions.records import is_final
from gie_picker.requestcontrol.usage import Usage

PRIMARY, FALLBACK = "10.0.0.1:8000", "10.0.0.2:8000"


def _struct(values: dict[str, object]) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(values)
    return result


def entry(
    *,
    route: dict[str, object] | None = None,
    lb: dict[str, object] | None = None,
    usage: dict[str, object] | None = None,
    upstream: str = PRIMARY,
    status: int = 200,
    flags: tuple[str, ...] = (),
) -> accesslog_pb2.HTTPAccessLogEntry:
    record = accesslog_pb2.HTTPAccessLogEntry()
    common = record.common_properties
    metadata = common.metadata.filter_metadata
    if route is None:
        route = {"request_id": "r1", "model": "m", "target_model": "m2"}
    if route:
        metadata["gie.route"].CopyFrom(_struct(route))
    if lb is None:
        lb = {"x-gateway-destination-endpoint": f"{PRIMARY},{FALLBACK}"}
    metadata["envoy.lb"].CopyFrom(_struct(lb))
    if usage is not None:
        metadata["gie.usage"].CopyFrom(_struct(usage))
    if upstream:
        host, _, port = upstream.rpartition(":")
        common.upstream_remote_address.socket_address.address = host
        common.upstream_remote_address.socket_address.port_value = int(port)
    common.duration.FromMilliseconds(250)
    for flag in flags:
        setattr(common.response_flags, flag, True)
    record.response.response_code.value = status
    return record


def test_a_routed_request_is_read_whole() -> None:
    usage = {"prompt_tokens": 12, "completion_tokens": 5, "cached_tokens": 8}
    assert read_record(entry(usage=usage)) == CompletionRecord(
        request_id="r1",
        model="m",
        target_model="m2",
        endpoints=(PRIMARY, FALLBACK),
        served=PRIMARY,
        status=200,
        usage=Usage(12, 5, 8),
        duration_s=0.25,
    )


@pytest.mark.parametrize(
    ("lb_served", "upstream", "served"),
    [
        (FALLBACK, PRIMARY, FALLBACK),  # the gateway's report wins
        (None, FALLBACK, FALLBACK),  # else the upstream host Envoy connected to
        (None, "10.9.9.9:1", PRIMARY),  # neither names an answered endpoint: the primary
        ("10.9.9.9:1", "", PRIMARY),
    ],
    ids=["served-metadata", "upstream-host", "unknown-upstream", "unknown-served"],
)
def test_served_endpoint(lb_served: str | None, upstream: str, served: str) -> None:
    lb: dict[str, object] = {"x-gateway-destination-endpoint": f"{PRIMARY},{FALLBACK}"}
    if lb_served is not None:
        lb["x-gateway-destination-endpoint-served"] = lb_served
    record = read_record(entry(lb=lb, upstream=upstream))
    assert record is not None and record.served == served


@pytest.mark.parametrize(
    ("status", "flags", "expected"),
    [
        (200, (), 200),
        (503, ("upstream_connection_failure",), 0),
        (200, ("downstream_connection_termination",), 0),
        (200, ("stream_idle_timeout",), 0),
        (0, (), 0),
        (429, (), 429),
        (200, ("upstream_max_stream_duration_reached",), 0),
        (200, ("duration_timeout",), 0),
        (200, ("upstream_protocol_error",), 0),
    ],
    ids=[
        "ok",
        "no-upstream",
        "client-gone",
        "idle-timeout",
        "no-response",
        "server-429",
        "max-stream-duration",
        "duration-timeout",
        "upstream-protocol-error",
    ],
)
def test_status_is_zero_when_the_response_did_not_complete(
    status: int, flags: tuple[str, ...], expected: int
) -> None:
    record = read_record(entry(status=status, flags=flags))
    assert record is not None and record.status == expected


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (None, None),
        ({}, None),
        ({"completion_tokens": 3}, Usage(None, 3, None)),
        ({"prompt_tokens": -1, "completion_tokens": 2.5}, None),
        ({"prompt_tokens": "7"}, None),
    ],
    ids=["absent", "empty", "partial", "negative-or-fractional", "text"],
)
def test_usage_takes_only_whole_non_negative_counts(
    usage: dict[str, object] | None, expected: Usage | None
) -> None:
    record = read_record(entry(usage=usage))
    assert record is not None and record.usage == expected


def test_the_trace_context_is_taken_from_the_logged_request_headers() -> None:
    record = entry()
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    record.request.request_headers["traceparent"] = traceparent
    read = read_record(record)
    assert read is not None and read.traceparent == traceparent
    untraced = read_record(entry())
    assert untraced is not None and untraced.traceparent is None


def test_a_request_no_picker_routed_is_no_completion() -> None:
    assert read_record(entry(route={})) is None


@pytest.mark.parametrize(
    ("route", "lb", "field"),
    [
        ({"request_id": ""}, None, "gie.route.request_id"),
        ({"request_id": "x" * 2000}, None, "gie.route.request_id"),
        (None, {"other": "x"}, "envoy.lb.x-gateway-destination-endpoint"),
        (None, {"x-gateway-destination-endpoint": "not an address"}, "envoy.lb"),
    ],
    ids=["empty-id", "huge-id", "no-destination", "bad-destination"],
)
def test_unusable_records_name_the_field(
    route: dict[str, object] | None, lb: dict[str, object] | None, field: str
) -> None:
    with pytest.raises(RecordError, match=field):
        read_record(entry(route=route, lb=lb, upstream=""))


@pytest.mark.parametrize(
    ("status", "flags", "upstream", "failure"),
    [
        (200, (), PRIMARY, None),
        (404, (), PRIMARY, None),  # the client's mistake, not the server's
        (503, (), PRIMARY, "http_5xx"),
        (500, (), PRIMARY, "http_5xx"),
        (503, (), "", None),  # Envoy's own answer: no upstream host
        (503, ("upstream_connection_failure",), PRIMARY, "connect_failure"),
        (200, ("upstream_remote_reset",), PRIMARY, "reset"),  # cut mid-stream
        (503, ("upstream_connection_termination",), PRIMARY, "reset"),
        (200, ("downstream_remote_reset",), PRIMARY, None),  # the client went away
    ],
    ids=[
        "ok",
        "client-error",
        "503",
        "500",
        "envoy-503",
        "connect-failure",
        "reset-mid-stream",
        "connection-termination",
        "client-gone",
    ],
)
def test_how_the_served_endpoint_failed(
    status: int, flags: tuple[str, ...], upstream: str, failure: str | None
) -> None:
    record = read_record(entry(status=status, flags=flags, upstream=upstream))
    assert record is not None
    assert record.failure == failure


@pytest.mark.parametrize(
    ("attempts", "upstream", "failed_first"),
    [
        (1, PRIMARY, ()),
        (2, FALLBACK, (PRIMARY,)),  # the primary failed, the gateway moved on
        (0, FALLBACK, ()),  # attempts not reported: nothing is known
        (2, PRIMARY, ()),  # the primary was tried twice: it is the served one
    ],
    ids=["one-attempt", "retried-on-fallback", "unreported", "primary-again"],
)
def test_endpoints_tried_before_the_served_one(
    attempts: int, upstream: str, failed_first: tuple[str, ...]
) -> None:
    record_entry = entry(upstream=upstream)
    record_entry.common_properties.upstream_request_attempt_count = attempts
    record = read_record(record_entry)
    assert record is not None
    assert record.failed_first == failed_first


def test_a_periodic_record_of_a_request_still_going_is_not_its_end() -> None:
    """With the gateway's access_log_flush_interval, Envoy logs long streams while they
    go on: such a record must not complete the request (a second one would come)."""
    final = entry()
    assert is_final(final)  # NotSet: an Envoy that does not say
    final.common_properties.access_log_type = accesslog_pb2.AccessLogType.DownstreamEnd
    assert is_final(final)
    periodic = entry()
    periodic.common_properties.intermediate_log_entry = True
    periodic.common_properties.access_log_type = accesslog_pb2.AccessLogType.DownstreamPeriodic
    assert not is_final(periodic)
    upstream_end = entry()
    upstream_end.common_properties.access_log_type = accesslog_pb2.AccessLogType.UpstreamEnd
    assert not is_final(upstream_end)
