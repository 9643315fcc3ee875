"""The status a completed request reports: three ASCII digits from the upstream's
``:status``, else none (0). Whatever the upstream sends, the picker's routing events
are valid events every replica accepts (they are built without a second validation)."""

from __future__ import annotations

import pytest
from envoy.config.core.v3 import base_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_pb

from gie.bus import EVENTS
from gie.events import RequestCompleted, default_codec
from gie_picker.extproc import protocol
from gie_picker.extproc.request_stream import RequestStream
from tests.support.extproc_client import body_message, headers_message
from tests.support.memory_director import memory_director

POOL = "test/response-status"
A = "10.0.0.1:8000"


def response_headers(status: str) -> ext_pb.ProcessingRequest:
    return ext_pb.ProcessingRequest(
        response_headers=ext_pb.HttpHeaders(
            headers=base_pb2.HeaderMap(
                headers=[
                    base_pb2.HeaderValue(key=":status", raw_value=status.encode()),
                    base_pb2.HeaderValue(key="content-type", raw_value=b"application/json"),
                ]
            ),
            end_of_stream=True,
        )
    )


async def completed_status(status: str) -> tuple[int, list[bytes]]:
    parts = memory_director(POOL, A)
    bus, publisher, director = parts.bus, parts.publisher, parts.director
    stream = RequestStream(
        director,
        max_body_bytes=1 << 20,
        chunk_bytes=62_000,
        default_mode=protocol.FULL_DUPLEX_STREAMED,
    )
    headers = {":method": "POST", ":path": "/v1/completions", "x-request-id": "status-1"}
    await stream.on_message(headers_message(headers, end_of_stream=False))
    await stream.on_message(body_message(b'{"model": "m", "prompt": "hi"}', end_of_stream=True))
    await stream.on_message(response_headers(status))
    assert stream.completed
    await publisher.close()
    completed = [e for e in bus.stored(EVENTS) if isinstance(e, RequestCompleted)]
    assert len(completed) == 1
    return completed[0].status, bus.messages(EVENTS)


@pytest.mark.parametrize(
    ("sent", "reported"),
    [("200", 200), ("503", 503), ("99999", 0), ("²00", 0), ("20", 0), ("ok", 0), ("", 0)],
    ids=["ok", "unavailable", "five-digits", "superscript-digit", "two-digits", "word", "none"],
)
async def test_the_status_reported_is_the_upstreams_or_none(sent: str, reported: int) -> None:
    status, payloads = await completed_status(sent)
    assert status == reported
    codec = default_codec()
    for payload in payloads:  # what every other replica decodes: nothing refused
        assert codec.decode_batch(payload).errors == []
