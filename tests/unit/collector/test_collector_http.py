"""The minimal HTTP client: response framing, limits, keep-alive, timeouts, faults."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from gie_metrics_collector.errors import FetchError
from gie_metrics_collector.fetch import HttpPageFetcher, ResponseParser
from gie_sim import FaultMode, Faults, SimConfig, SimServer, run_servers

BODY = b"vllm:num_requests_waiting 3\n"


def _chunked(body: bytes, size: int) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\nX-T: 1\r\n\r\n"


RESPONSES = {
    "content-length": b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY),
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked(BODY, 5),
}


@pytest.mark.parametrize("kind", sorted(RESPONSES))
def test_responses_parse_whatever_way_the_bytes_arrive(kind: str) -> None:
    raw = RESPONSES[kind]
    for step in (1, 3, 7, len(raw)):
        parser = ResponseParser(max_body=1024)
        done = [parser.feed(raw[i : i + step]) for i in range(0, len(raw), step)]
        assert done[-1] and not any(done[:-1])
        assert (parser.status, parser.body, parser.keep_alive) == (200, BODY, True)


def test_a_body_without_length_runs_to_the_end_of_the_connection() -> None:
    parser = ResponseParser(max_body=1024)
    assert not parser.feed(b"HTTP/1.0 200 OK\r\n\r\n" + BODY)
    assert parser.eof()
    assert (parser.body, parser.keep_alive) == (BODY, False)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", "oversized"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked(b"x" * 2000, 500),
            "oversized",
        ),
        (b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 2000, "oversized"),
        (b"SSH-2.0-OpenSSH\r\n\r\n", "bad_response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n", "bad_response"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad_response"),
        # Latin-1 superscript digits: isdigit() says yes, int() says no.
        (b"HTTP/1.1 \xb2\xb2\xb2 OK\r\n\r\n", "bad_response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n", "bad_response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n", "bad_response"),
    ],
    ids=[
        "announced",
        "chunked",
        "until-close",
        "not-http",
        "bad-length",
        "bad-chunk",
        "superscript-status",
        "superscript-length",
        "endless-length",
    ],
)
def test_oversized_and_malformed_responses_are_refused(raw: bytes, reason: str) -> None:
    with pytest.raises(FetchError) as caught:
        ResponseParser(max_body=1024).feed(raw)
    assert caught.value.reason == reason


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with run_servers(count=1, config=SimConfig(time_scale=0.0)) as servers:
        yield servers[0]


async def test_pages_are_fetched_over_one_kept_alive_connection(sim: SimServer) -> None:
    fetcher = HttpPageFetcher(sim.address, "/metrics", timeout_s=2.0, max_body=1 << 20)
    try:
        first = await fetcher.fetch()
        connection = fetcher._conn
        assert b"vllm:num_requests_waiting" in first
        assert await fetcher.fetch() == first
        assert fetcher._conn is connection
    finally:
        fetcher.close()


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        (FaultMode.SLOW, "timeout"),
        (FaultMode.HTTP500, "http_status"),
        (FaultMode.OVERSIZED, "oversized"),
    ],
)
async def test_faults_raise_reasoned_errors_and_the_next_fetch_recovers(
    sim: SimServer, mode: FaultMode, reason: str
) -> None:
    fetcher = HttpPageFetcher(sim.address, "/metrics", timeout_s=0.3, max_body=1 << 20)
    try:
        sim.faults = Faults(mode=mode, delay_ms=2000, oversize_bytes=2 << 20)
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch()
        assert caught.value.reason == reason
        assert time.monotonic() - started < 2.0  # the deadline, not the server, ended it
        sim.faults = Faults()
        assert b"vllm:" in await fetcher.fetch()
    finally:
        fetcher.close()


async def test_an_unreachable_endpoint_fails_fast() -> None:
    fetcher = HttpPageFetcher("127.0.0.1:9", "/metrics", timeout_s=2.0, max_body=1024)
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch()
    assert caught.value.reason == "unreachable"


async def _serve_once(
    respond: Callable[[asyncio.StreamWriter], None],
) -> tuple[asyncio.Server, str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        respond(writer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"127.0.0.1:{port}"


async def test_a_connection_closed_mid_body_is_a_bad_response() -> None:
    server, address = await _serve_once(
        lambda w: w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
    )
    fetcher = HttpPageFetcher(address, "/metrics", timeout_s=2.0, max_body=1024)
    try:
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch()
        assert caught.value.reason == "bad_response"
    finally:
        fetcher.close()
        server.close()
        await server.wait_closed()


async def test_a_chunked_response_from_a_real_socket() -> None:
    server, address = await _serve_once(lambda w: w.write(RESPONSES["chunked"]))
    fetcher = HttpPageFetcher(address, "/metrics", timeout_s=2.0, max_body=1024)
    try:
        assert await fetcher.fetch() == BODY
    finally:
        fetcher.close()
        server.close()
        await server.wait_closed()
