"""Fetch one endpoint's metrics page over a kept-alive HTTP/1.1 connection.

A minimal asyncio client on purpose: at hundreds of endpoints scraped every 50 ms, a
general-purpose client's per-request overhead would dominate the collector's CPU. It sends
one GET at a time on one connection per endpoint, reconnects when the connection drops,
and bounds every fetch by a deadline that covers connecting too. Anything that goes wrong
raises :class:`~gie_metrics_collector.errors.FetchError` with a stable ``reason``:
``unreachable``, ``timeout``, ``http_status``, ``oversized`` or ``bad_response``.
"""

from __future__ import annotations

import asyncio
import ssl

from gie_metrics_collector.errors import FetchError
from gie_metrics_collector.fetch.response import ResponseParser

__all__ = ["HttpPageFetcher", "split_address"]


def split_address(address: str) -> tuple[str, int]:
    """``"10.0.0.1:8000"`` -> ``("10.0.0.1", 8000)``; ``"[::1]:8000"`` -> ``("::1", 8000)``."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


class _Connection(asyncio.Protocol):
    """One TCP connection carrying one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._parser: ResponseParser | None = None
        self._waiter: asyncio.Future[ResponseParser] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send(
        self, request: bytes, parser: ResponseParser, waiter: asyncio.Future[ResponseParser]
    ) -> None:
        assert self.transport is not None
        self._parser, self._waiter = parser, waiter
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        if parser is None:  # nothing asked: a confused peer
            self.abort()
            return
        try:
            done = parser.feed(data)
        except FetchError as exc:
            self._settle(exc)
            self.abort()
            return
        if done:
            self._settle(parser)
            if not parser.keep_alive:
                self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        parser = self._parser
        if parser is None:
            return
        if exc is None and parser.eof():
            self._settle(parser)
        else:
            detail = f": {exc}" if exc else ""
            self._settle(FetchError("bad_response", f"connection closed mid-response{detail}"))

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _settle(self, outcome: ResponseParser | FetchError) -> None:
        waiter, self._waiter, self._parser = self._waiter, None, None
        if waiter is None or waiter.done():
            return
        if isinstance(outcome, FetchError):
            waiter.set_exception(outcome)
        else:
            waiter.set_result(outcome)


class HttpPageFetcher:
    """GETs ``http(s)://address/path``. One caller at a time (the endpoint's scrape loop)."""

    def __init__(
        self,
        address: str,
        path: str,
        *,
        timeout_s: float,
        max_body: int,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._host, self._port = split_address(address)
        self._timeout_s = timeout_s
        self._max_body = max_body
        self._ssl = ssl_context
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {address}\r\nUser-Agent: gie-metrics-collector\r\n"
            "Accept: text/plain;version=0.0.4\r\nConnection: keep-alive\r\n\r\n"
        ).encode()
        self._conn: _Connection | None = None

    async def fetch(self) -> bytes:
        """The body of a 200 response; raises :class:`FetchError` otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        conn = self._conn
        if conn is None or conn.closed:
            conn = self._conn = await self._connect(deadline)
        waiter: asyncio.Future[ResponseParser] = loop.create_future()
        conn.send(self._request, ResponseParser(max_body=self._max_body), waiter)
        timer = loop.call_at(deadline, self._expire, conn, waiter)
        try:
            response = await waiter
        finally:
            timer.cancel()
            if not waiter.done() or waiter.cancelled():
                conn.abort()  # cancelled mid-request: never reuse a half-read connection
        if response.status != 200:
            raise FetchError("http_status", f"HTTP {response.status}")
        return response.body

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.abort()

    async def _connect(self, deadline: float) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(
                    _Connection,
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._host if self._ssl else None,
                ),
                timeout=max(0.0, deadline - loop.time()),
            )
        except TimeoutError:
            raise FetchError("timeout", f"connecting took over {self._timeout_s}s") from None
        except OSError as exc:
            raise FetchError("unreachable", f"cannot connect: {exc.strerror or exc}") from None
        return conn

    def _expire(self, conn: _Connection, waiter: asyncio.Future[ResponseParser]) -> None:
        if not waiter.done():
            waiter.set_exception(FetchError("timeout", f"no response within {self._timeout_s}s"))
            conn.abort()
