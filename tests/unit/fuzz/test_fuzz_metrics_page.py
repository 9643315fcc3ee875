"""The collector's HTTP response parser and metrics-page reader: any bytes a model server
sends give metrics or a FetchError/PageError, and the buffer never outgrows its limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gie_metrics_collector.errors import FetchError, PageError
from gie_metrics_collector.fetch.response import ResponseParser
from gie_metrics_collector.signals import BUILTIN_SPECS, SignalReader
from tests.unit.fuzz.conftest import FUZZ

MAX_BODY = 4096
_heads = st.sampled_from(
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.0 200 OK\r\n\r\n",
        b"",
    ]
)
_lines = st.sampled_from(
    [
        "vllm:num_requests_waiting",
        "vllm:num_requests_running",
        "vllm:gpu_cache_usage_perc",
        "vllm:kv_cache_usage_perc",
        "sglang:num_queue_reqs",
        "vllm:cache_config_info",
        "# TYPE vllm:num_requests_waiting gauge",
        "# HELP x y",
    ]
)
_values = st.sampled_from(
    ["1", "0.5", "NaN", "+Inf", "-1", "1e400", "x", "", " 1 2", " 3 1700000000000"]
)
_labels = st.sampled_from(
    ["", '{model_name="m"}', '{a="\\"\\n"}', '{block_size="16",num_gpu_blocks="100"}', "{", '{a="']
)
_pages = st.lists(st.tuples(_lines, _labels, _values), max_size=12).map(
    lambda rows: "".join(f"{n}{labels} {v}\n" for n, labels, v in rows)
)


@FUZZ
@given(head=_heads, rest=st.binary(max_size=300), step=st.integers(min_value=1, max_value=64))
def test_any_response_bytes_parse_or_fail_with_a_fetch_error(
    head: bytes, rest: bytes, step: int
) -> None:
    parser = ResponseParser(max_body=MAX_BODY)
    data = head + rest
    try:
        for start in range(0, len(data), step):
            if parser.feed(data[start : start + step]):
                assert len(parser.body) <= MAX_BODY
                return
        parser.eof()
    except FetchError as exc:
        assert exc.reason in {"bad_response", "oversized"}


@FUZZ
@given(page=_pages | st.text(max_size=200), garbage=st.binary(max_size=50))
def test_any_page_gives_metrics_or_a_page_error(page: str, garbage: bytes) -> None:
    for body in (page.encode(), page.encode() + garbage):
        try:
            metrics = SignalReader(BUILTIN_SPECS, pinned=None).read(body, None)
        except PageError as exc:
            assert exc.reason
        else:
            assert metrics.waiting_queue_size >= 0 and 0 <= metrics.kv_cache_usage <= 1


@pytest.mark.parametrize(
    ("raw", "reason", "words"),
    [
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1" * 2000,
            "bad_response",
            "chunk-size line longer than 1024 bytes",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + (b"1;" + b"e" * 1000 + b"\r\nx\r\n") * 100,
            "oversized",
            "framing",
        ),
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70_000, "bad_response", "head too long"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", "oversized", "5000 bytes"),
    ],
    ids=[
        "endless-chunk-size-line",
        "chunks-mostly-extensions",
        "endless-head",
        "announced-too-large",
    ],
)
def test_a_response_over_a_limit_is_refused_naming_it(raw: bytes, reason: str, words: str) -> None:
    parser = ResponseParser(max_body=MAX_BODY)
    with pytest.raises(FetchError) as caught:
        for start in range(0, len(raw), 512):
            parser.feed(raw[start : start + 512])
    assert caught.value.reason == reason and words in str(caught.value)
