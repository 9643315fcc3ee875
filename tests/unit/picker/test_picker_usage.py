from __future__ import annotations

import orjson
import pytest

from gie_picker.requestcontrol.usage import Usage, UsageParser

USAGE = {
    "prompt_tokens": 12,
    "completion_tokens": 5,
    "total_tokens": 17,
    "prompt_tokens_details": {"cached_tokens": 8},
}


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 7, 10_000], ids=["byte", "small", "whole"])
def test_json_usage_whatever_the_chunking(size: int) -> None:
    body = orjson.dumps({"id": "x", "choices": [], "usage": USAGE})
    parser = UsageParser(streaming=False)
    for piece in chunks(body, size):
        parser.feed(piece)
    assert parser.finish() == Usage(12, 5, 8)


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("size", [1, 13, 10_000], ids=["byte", "small", "whole"])
def test_sse_usage_from_the_last_usage_chunk(size: int, eol: bytes) -> None:
    events = [
        {"choices": [{"text": "a"}]},
        {"choices": [{"text": "b"}], "usage": None},
        {"choices": [], "usage": USAGE},
    ]
    end = eol + eol  # SSE lines end in LF or CRLF
    stream = b"".join(b"data: " + orjson.dumps(e) + end for e in events) + b"data: [DONE]" + end
    parser = UsageParser(streaming=True)
    for piece in chunks(stream, size):
        parser.feed(piece)
    assert parser.finish() == Usage(12, 5, 8)


@pytest.mark.parametrize(
    ("body", "streaming"),
    [
        (b"not json", False),
        (b'{"usage": "nope"}', False),
        (b"data: {broken\n\ndata: [DONE]\n\n", True),
        (b'data: {"choices": []}\n\ndata: [DONE]\n\n', True),
    ],
    ids=["garbage-json", "usage-not-object", "garbage-sse", "sse-without-usage"],
)
def test_missing_or_garbage_usage_is_none(body: bytes, streaming: bool) -> None:
    parser = UsageParser(streaming=streaming)
    parser.feed(body)
    assert parser.finish() is None


def test_json_bodies_above_the_limit_are_not_buffered() -> None:
    parser = UsageParser(streaming=False, max_json_bytes=100)
    parser.feed(b"x" * 60)
    parser.feed(b"x" * 60)
    assert parser.finish() is None
