"""Completion records: the gateway's access-log records end the requests the picker routed.

The picker's ext_proc service and its access-log service run on one real gRPC server;
the test plays Envoy on both: an ext_proc stream that announces no response body,
then the access-log record Envoy would send for it, carrying the routing answer's
dynamic metadata and the usage Envoy read from the response.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import grpc
import orjson
import pytest
from envoy.data.accesslog.v3 import accesslog_pb2
from envoy.service.accesslog.v3 import als_pb2
from envoy.service.accesslog.v3 import als_pb2_grpc as als_grpc
from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_pb
from google.protobuf import struct_pb2
from prometheus_client import CollectorRegistry

from gie.bus import EVENTS, BackgroundPublisher, BusMetrics, MemoryEventBus
from gie.events import (
    Endpoint,
    EndpointMetrics,
    EndpointMetricsObserved,
    EndpointUpserted,
    RequestCompleted,
    RequestRouted,
)
from gie.saturation import SaturationConfig
from gie.view import InFlightView, PoolView
from gie_picker.completions import CompletionRecordService, RecordMetrics, add_record_service
from gie_picker.config import default_config
from gie_picker.extproc import ExtProcServicer, add_servicer
from gie_picker.extproc.protocol import FULL_DUPLEX_STREAMED
from gie_picker.requestcontrol.director import Director
from gie_picker.telemetry.metrics import PickerMetrics
from gie_picker.wiring import configured_scheduler
from tests.support.extproc_client import Mode, body_message, exchange, headers_message

pytestmark = pytest.mark.integration

POOL = "default/sim-pool"
PRIMARY, OTHER = "10.0.0.2:8000", "10.0.0.1:8000"


class Picker:
    def __init__(self, *, records: bool) -> None:
        self.view = PoolView(POOL)
        for address, waiting in ((OTHER, 9), (PRIMARY, 0)):
            self.view.apply(
                EndpointUpserted(source="t", pool=POOL, endpoint=Endpoint(address=address))
            )
            self.view.apply(
                EndpointMetricsObserved(
                    source="t",
                    pool=POOL,
                    address=address,
                    scraped_at=datetime.now(UTC),
                    metrics=EndpointMetrics(
                        waiting_queue_size=waiting, running_requests=1, kv_cache_usage=0.1
                    ),
                )
            )
        self.inflight = InFlightView(POOL)
        self.bus = MemoryEventBus()
        self.publisher = BackgroundPublisher(self.bus, metrics=BusMetrics(None))
        self.registry = CollectorRegistry()
        self.director = Director(
            view=self.view,
            scheduler=configured_scheduler(
                default_config(), registry=CollectorRegistry(), inflight=self.inflight
            ),
            saturation=SaturationConfig(),
            publisher=self.publisher,
            metrics=PickerMetrics(CollectorRegistry()),
            source="picker-test",
            now=lambda: datetime.now(UTC),
            inflight=self.inflight,
            fold_own=self.inflight.apply,
        )
        self.records = (
            CompletionRecordService(self.director, RecordMetrics(self.registry))
            if records
            else None
        )

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0

    async def completed(self) -> list[RequestCompleted]:
        await self.publisher.close()
        return [e for e in self.bus.stored(EVENTS) if isinstance(e, RequestCompleted)]


@contextlib.asynccontextmanager
async def serving(picker: Picker) -> AsyncIterator[grpc.aio.Channel]:
    picker.publisher.start()
    server = grpc.aio.server()
    add_servicer(
        server,
        ExtProcServicer(
            picker.director,
            max_body_bytes=100_000,
            chunk_bytes=62_000,
            default_mode=FULL_DUPLEX_STREAMED,
            completion_records=picker.records is not None,
        ),
    )
    if picker.records is not None:
        add_record_service(server, picker.records)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel
    finally:
        await server.stop(None)


async def route(channel: grpc.aio.Channel, request_id: str) -> ext_pb.ProcessingResponse:
    """One request as Envoy sends it with ``response_body_mode: NONE``; its routing answer."""
    start = headers_message(
        {":method": "POST", ":path": "/v1/completions", "x-request-id": request_id},
        end_of_stream=False,
        mode=Mode.FULL_DUPLEX_STREAMED,
    )
    start.protocol_config.response_body_mode = Mode.NONE  # type: ignore[assignment]
    body = orjson.dumps({"model": "sim-llama", "prompt": "hello", "max_tokens": 5})
    responses = await exchange(channel, [start, body_message(body, end_of_stream=True)])
    (answer,) = [r for r in responses if r.WhichOneof("response") == "request_headers"]
    return answer


def record(
    answer: ext_pb.ProcessingResponse,
    *,
    status: int = 200,
    upstream: str = PRIMARY,
    usage: dict[str, float] | None = None,
    reset: bool = False,
) -> accesslog_pb2.HTTPAccessLogEntry:
    """The access-log record Envoy writes for the request ``answer`` routed."""
    entry = accesslog_pb2.HTTPAccessLogEntry()
    common = entry.common_properties
    for namespace, value in answer.dynamic_metadata.fields.items():
        common.metadata.filter_metadata[namespace].CopyFrom(value.struct_value)
    if usage is not None:
        usage_struct = struct_pb2.Struct()
        usage_struct.update(usage)
        common.metadata.filter_metadata["gie.usage"].CopyFrom(usage_struct)
    host, _, port = upstream.rpartition(":")
    common.upstream_remote_address.socket_address.address = host
    common.upstream_remote_address.socket_address.port_value = int(port)
    common.duration.FromMilliseconds(1500)
    common.response_flags.downstream_connection_termination = reset
    entry.response.response_code.value = status
    return entry


async def send_records(
    channel: grpc.aio.Channel, batches: Sequence[Sequence[accesslog_pb2.HTTPAccessLogEntry]]
) -> None:
    """One access-log stream, one message per batch, as Envoy flushes them."""

    async def messages() -> AsyncIterator[als_pb2.StreamAccessLogsMessage]:
        for index, batch in enumerate(batches):
            message = als_pb2.StreamAccessLogsMessage()
            if index == 0:
                message.identifier.log_name = "gie-completions"
            message.http_logs.log_entry.extend(batch)
            yield message

    await als_grpc.AccessLogServiceStub(channel).StreamAccessLogs(messages())


async def test_a_record_completes_the_request_with_its_usage_status_and_served_endpoint() -> None:
    picker = Picker(records=True)
    async with serving(picker) as channel:
        answer = await route(channel, "req-1")
        lb = answer.dynamic_metadata.fields["envoy.lb"].struct_value
        assert lb.fields["x-gateway-destination-endpoint"].string_value.startswith(PRIMARY)
        names = answer.dynamic_metadata.fields["gie.route"].struct_value.fields
        assert names["request_id"].string_value == "req-1"
        assert names["model"].string_value == "sim-llama"
        # the ext_proc stream has ended: the request is still in flight
        assert picker.inflight.count(PRIMARY) == 1
        usage = {"prompt_tokens": 7, "completion_tokens": 3, "cached_tokens": 4}
        await send_records(channel, [[record(answer, usage=usage)]])
        assert picker.inflight.count(PRIMARY) == 0
    (done,) = await picker.completed()
    assert (done.request_id, done.target, done.status) == ("req-1", PRIMARY, 200)
    assert (done.prompt_tokens, done.completion_tokens, done.cached_tokens) == (7, 3, 4)
    assert done.duration_s == pytest.approx(1.5)
    assert picker.metric("gie_picker_completion_records_total", outcome="completed") == 1


@pytest.mark.parametrize(
    ("kwargs", "status", "tokens"),
    [
        ({"status": 503}, 503, None),
        ({"reset": True, "usage": {"completion_tokens": 2}}, 0, 2),
        ({"upstream": "10.9.9.9:1"}, 200, None),
    ],
    ids=["server-error", "client-went-away", "unknown-upstream-is-the-primary"],
)
async def test_record_outcomes(kwargs: dict[str, object], status: int, tokens: int | None) -> None:
    picker = Picker(records=True)
    async with serving(picker) as channel:
        answer = await route(channel, "req-2")
        await send_records(channel, [[record(answer, **kwargs)]])  # type: ignore[arg-type]
    (done,) = await picker.completed()
    assert (done.status, done.completion_tokens, done.target) == (status, tokens, PRIMARY)


async def test_records_arrive_in_batches_and_bad_or_foreign_ones_are_counted() -> None:
    picker = Picker(records=True)
    async with serving(picker) as channel:
        answers = [await route(channel, f"req-{i}") for i in range(3)]
        foreign = accesslog_pb2.HTTPAccessLogEntry()  # no gie.route: not routed by a picker
        broken = record(answers[0])
        broken.common_properties.metadata.filter_metadata["envoy.lb"].Clear()
        await send_records(
            channel,
            [[record(answers[0]), foreign, broken], [record(answers[1]), record(answers[2])]],
        )
        assert picker.metric("gie_picker_completion_record_batches_total") == 2
        assert len(picker.inflight) == 0
    assert sorted(e.request_id for e in await picker.completed()) == ["req-0", "req-1", "req-2"]
    assert picker.metric("gie_picker_completion_records_total", outcome="completed") == 3
    assert picker.metric("gie_picker_completion_records_total", outcome="unrouted") == 1
    assert picker.metric("gie_picker_completion_records_total", outcome="invalid") == 1


async def test_a_periodic_record_leaves_the_request_in_flight_and_one_completion_comes() -> None:
    """Envoy's periodic access logging (access_log_flush_interval) writes records while a
    long stream goes on: only the record of its end completes the request, once."""
    picker = Picker(records=True)
    async with serving(picker) as channel:
        answer = await route(channel, "req-long")
        periodic = record(answer, usage={"completion_tokens": 1})
        periodic.common_properties.intermediate_log_entry = True
        periodic.common_properties.access_log_type = accesslog_pb2.AccessLogType.DownstreamPeriodic
        await send_records(channel, [[periodic]])
        assert picker.inflight.count(PRIMARY) == 1  # still streaming
        end = record(answer, usage={"completion_tokens": 9})
        end.common_properties.access_log_type = accesslog_pb2.AccessLogType.DownstreamEnd
        await send_records(channel, [[end]])
        assert picker.inflight.count(PRIMARY) == 0
    (done,) = await picker.completed()
    assert done.completion_tokens == 9
    assert picker.metric("gie_picker_completion_records_total", outcome="intermediate") == 1


async def test_a_broken_record_stream_is_counted_as_lost() -> None:
    picker = Picker(records=True)
    async with serving(picker) as channel:
        sent = asyncio.Event()

        async def messages() -> AsyncIterator[als_pb2.StreamAccessLogsMessage]:
            yield als_pb2.StreamAccessLogsMessage()
            sent.set()
            await asyncio.sleep(60)  # the gateway goes away mid-stream
            yield als_pb2.StreamAccessLogsMessage()

        call = als_grpc.AccessLogServiceStub(channel).StreamAccessLogs(messages())
        await sent.wait()
        for _ in range(100):
            if picker.metric("gie_picker_completion_record_streams") == 1:
                break
            await asyncio.sleep(0.02)
        assert picker.metric("gie_picker_completion_record_streams") == 1
        call.cancel()
        for _ in range(100):
            if picker.metric("gie_picker_completion_record_streams_lost_total") == 1:
                break
            await asyncio.sleep(0.02)
        assert picker.metric("gie_picker_completion_record_streams_lost_total") == 1
        assert picker.metric("gie_picker_completion_record_streams") == 0
    await picker.completed()


async def test_without_records_the_request_completes_when_its_stream_ends() -> None:
    picker = Picker(records=False)
    async with serving(picker) as channel:
        answer = await route(channel, "req-3")
        assert "gie.route" not in answer.dynamic_metadata.fields
    (done,) = await picker.completed()
    assert (done.request_id, done.status, done.completion_tokens) == ("req-3", 0, None)
    assert picker.inflight.count(PRIMARY) == 0


async def test_a_stream_that_sends_the_response_completes_itself_even_with_records() -> None:
    picker = Picker(records=True)
    async with serving(picker) as channel:
        start = headers_message(
            {":method": "POST", ":path": "/v1/completions", "x-request-id": "req-4"},
            end_of_stream=False,
            mode=Mode.FULL_DUPLEX_STREAMED,
        )
        start.protocol_config.response_body_mode = Mode.FULL_DUPLEX_STREAMED  # type: ignore[assignment]
        body = orjson.dumps({"model": "sim-llama", "prompt": "hello"})
        await exchange(channel, [start, body_message(body, end_of_stream=True)])
    (done,) = await picker.completed()
    assert [e.request_id for e in picker.bus.stored(EVENTS) if isinstance(e, RequestRouted)] == [
        "req-4"
    ]
    assert done.request_id == "req-4"
