"""Routing answers copied from templates are the messages the reference builders make."""

from __future__ import annotations

import pytest
from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_pb

from gie import epp_protocol
from gie_picker.extproc import protocol
from gie_picker.extproc.routed_answers import RoutedAnswers

REMOVE = ("x-gateway-inference-fairness-id", "x-gateway-inference-objective")
EXTRAS = [
    {},
    {"x-request-id": "req-1"},
    {"x-request-id": "req-2", "content-length": "17"},
]


def reference_mutation(destination: str, extra: dict[str, str]) -> ext_pb.HeaderMutation:
    headers = {epp_protocol.DESTINATION_HEADER: destination, **extra}
    return protocol.header_mutation(set_headers=headers, remove=REMOVE)


@pytest.mark.parametrize("extra", EXTRAS, ids=["none", "request-id", "request-id+length"])
def test_headers_answer_matches_the_reference(extra: dict[str, str]) -> None:
    answers = RoutedAnswers(remove=REMOVE)
    destination = "10.0.0.7:8000,10.0.0.8:8000"
    expected = protocol.routed_headers_response(reference_mutation(destination, extra), destination)
    assert answers.headers(destination, extra) == expected


@pytest.mark.parametrize("new_body", [None, b'{"model":"rewritten"}'], ids=["same", "rewritten"])
def test_body_answer_matches_the_reference(new_body: bytes | None) -> None:
    answers = RoutedAnswers(remove=REMOVE)
    extra = {"content-length": "21"} if new_body else {}
    expected = protocol.routed_body_response(
        reference_mutation("10.0.0.9:80", extra), "10.0.0.9:80", body=new_body
    )
    assert answers.body("10.0.0.9:80", extra, new_body=new_body) == expected


def test_answers_do_not_leak_into_each_other() -> None:
    answers = RoutedAnswers(remove=REMOVE)
    first = answers.headers("10.0.0.1:80", {"x-request-id": "a"})
    second = answers.headers("10.0.0.2:80", {})
    assert len(second.request_headers.response.header_mutation.set_headers) == 1
    lb = first.dynamic_metadata.fields[epp_protocol.LB_NAMESPACE].struct_value
    assert lb.fields[epp_protocol.DESTINATION_HEADER].string_value == "10.0.0.1:80"


@pytest.mark.parametrize(
    ("size", "chunk", "pieces"), [(0, 4, 1), (3, 4, 1), (4, 4, 1), (5, 4, 2), (12, 4, 3)]
)
def test_request_bodies_are_restreamed_whole_with_end_of_stream_last(
    size: int, chunk: int, pieces: int
) -> None:
    body = bytes(range(size))
    answers = list(protocol.streamed_body_chunks(body, chunk))
    streamed = [a.request_body.response.body_mutation.streamed_response for a in answers]
    assert len(answers) == pieces
    assert b"".join(s.body for s in streamed) == body
    assert [s.end_of_stream for s in streamed] == [False] * (pieces - 1) + [True]
