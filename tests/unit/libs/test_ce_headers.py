"""CloudEvents headers as the bus builds them: one rule for ce-type, the trace context
checked, a batch of mixed types named as such, a source that cannot break the block."""

from __future__ import annotations

import pytest

from gie.bus.ce_headers import CeHeaders, valid_traceparent
from gie.events import EndpointRemoved, EndpointUpserted, schema_uri
from gie.events.endpoint import Endpoint
from gie.events.subjects import endpoint_subject, flow_subject, routing_subject
from tests.support.consume_events import completed

TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def parse(block: bytes) -> dict[str, str]:
    head, *lines = block.decode().split("\r\n")
    assert head == "NATS/1.0" and block.endswith(b"\r\n\r\n")
    return dict(line.split(": ", 1) for line in lines if line)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (routing_subject("a/b", "completed"), "io.gie.routing.RequestCompleted.v1"),
        (flow_subject("a/b", "dispatched"), "io.gie.flow.RequestCompleted.v1"),
        ("somewhere.else", "io.gie.event.RequestCompleted.v1"),
    ],
    ids=["routing", "flow", "not-a-gie-subject"],
)
def test_ce_type_follows_the_subject_kind(subject: str, expected: str) -> None:
    event = completed("a/b", 1)
    headers = CeHeaders("/gie/t/1").mapping(subject, event, msg_id="m")
    assert headers["ce-type"] == expected
    assert parse(CeHeaders("/gie/t/1").block(subject, event, msg_id="m")) == headers


@pytest.mark.parametrize(
    "value",
    [None, "", "00-xyz", TRACE.upper(), TRACE + "\r\nX-Injected: 1", TRACE[:-1]],
    ids=["none", "empty", "short", "upper-case", "injection", "truncated"],
)
def test_only_a_well_formed_traceparent_is_passed_on(value: str | None) -> None:
    assert valid_traceparent(value) is None
    assert valid_traceparent(TRACE) == TRACE


def test_a_batch_of_mixed_types_is_named_a_batch() -> None:
    pool, address = "a/b", "10.0.0.1:8000"
    events = [
        EndpointUpserted(source="s", pool=pool, endpoint=Endpoint(address=address)),
        EndpointRemoved(source="s", pool=pool, address=address),
    ]
    headers = parse(
        CeHeaders("/gie/t/1").batch_block(endpoint_subject(pool, address), events, msg_id="b1")
    )
    assert headers["ce-type"] == "io.gie.endpoint.Batch.v1"
    assert headers["ce-dataschema"] == schema_uri("Batch")
    assert (headers["ce-id"], headers["Nats-Msg-Id"], headers["ce-gieevents"]) == ("b1", "b1", "2")


@pytest.mark.parametrize("source", ["", "/gie/x\r\nce-type: forged", "/gie/\x00"])
def test_a_source_that_would_break_the_header_block_is_refused(source: str) -> None:
    with pytest.raises(ValueError, match="ce-source"):
        CeHeaders(source)
