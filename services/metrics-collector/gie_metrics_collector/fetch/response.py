"""Incremental parser of one HTTP/1.1 response (status, headers, body).

Bodies come with ``Content-Length``, ``Transfer-Encoding: chunked`` or, failing both, run
to the end of the connection. The body is bounded: a response announcing or delivering more
than ``max_body`` bytes raises ``FetchError("oversized")`` at once, without reading the rest.
Malformed responses raise ``FetchError("bad_response")``, a head over 64 KiB or a chunk-size
line over 1 KiB included (so a peer cannot grow the buffer without bound by never ending a
line); the time a response may take is the scrape timeout's.
"""

from __future__ import annotations

import re

from gie_metrics_collector.errors import FetchError

__all__ = ["ResponseParser"]

_MAX_HEAD = 64 * 1024
# A status code or Content-Length: ASCII digits (isdigit() also takes "²"), few of them.
_DIGITS = re.compile(r"[0-9]{1,18}")
_MAX_CHUNK_LINE = 1024


def _bad(message: str) -> FetchError:
    return FetchError("bad_response", message)


class ResponseParser:
    """Feed it bytes with :meth:`feed` until it returns True (or :meth:`eof` at close)."""

    def __init__(self, *, max_body: int) -> None:
        self._max_body = max_body
        self._buf = bytearray()
        self._head_done = False
        self._length: int | None = None
        self._chunked = False
        self._pos = 0  # chunked: where the next chunk-size line starts
        self._chunks: list[bytes] = []
        self._chunked_size = 0
        self.status = 0
        self.keep_alive = True
        self.body = b""

    def feed(self, data: bytes) -> bool:
        """Add received bytes; True once the whole response is in."""
        self._buf += data
        if not self._head_done and not self._parse_head():
            return False
        if self._chunked:
            return self._parse_chunks()
        if self._length is not None:
            if len(self._buf) < self._length:
                return False
            if len(self._buf) > self._length:
                self.keep_alive = False  # we never pipeline: extra bytes are a broken peer
            self.body = bytes(self._buf[: self._length])
            return True
        if len(self._buf) > self._max_body:
            raise FetchError("oversized", f"page larger than {self._max_body} bytes")
        return False

    def eof(self) -> bool:
        """The peer closed the connection; True when that completed the response."""
        if self._head_done and self._length is None and not self._chunked:
            self.body, self.keep_alive = bytes(self._buf), False
            return True
        return False

    def _parse_head(self) -> bool:
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buf) > _MAX_HEAD:
                raise _bad("response head too long")
            return False
        lines = bytes(self._buf[:end]).decode("latin-1").split("\r\n")
        del self._buf[: end + 4]
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not _DIGITS.fullmatch(code):
            raise _bad(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
        self.status = int(code)
        self.keep_alive = version == "HTTP/1.1"
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise _bad(f"malformed header line {line[:80]!r}")
            self._header(name.strip().lower(), value.strip())
        self._head_done = True
        return True

    def _header(self, name: str, value: str) -> None:
        if name == "content-length":
            if not _DIGITS.fullmatch(value):
                raise _bad(f"bad Content-Length {value!r}")
            self._length = int(value)
            if self._length > self._max_body:
                raise FetchError("oversized", f"page of {value} bytes > {self._max_body}")
        elif name == "transfer-encoding":
            self._chunked = "chunked" in value.lower()
        elif name == "connection":
            tokens = value.lower()
            if "close" in tokens:
                self.keep_alive = False
            elif "keep-alive" in tokens:
                self.keep_alive = True

    def _parse_chunks(self) -> bool:
        buf = self._buf
        if len(buf) > 2 * self._max_body + _MAX_HEAD:  # tiny chunks: framing outweighs data
            raise FetchError("oversized", f"chunked page framing beyond {self._max_body} bytes")
        while True:
            line_end = buf.find(b"\r\n", self._pos)
            if line_end < 0:
                if len(buf) - self._pos > _MAX_CHUNK_LINE:
                    raise _bad(f"chunk-size line longer than {_MAX_CHUNK_LINE} bytes")
                return False
            size_text = bytes(buf[self._pos : line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _bad(f"bad chunk size {size_text[:20]!r}") from None
            if size == 0:
                # Last chunk: optional trailer lines, then an empty line.
                end = buf.find(b"\r\n\r\n", line_end)
                if end < 0:
                    if len(buf) - line_end > _MAX_HEAD:
                        raise _bad("chunked trailer too long")
                    return False
                self.keep_alive = self.keep_alive and end + 4 == len(buf)
                self.body = b"".join(self._chunks)
                return True
            start, stop = line_end + 2, line_end + 2 + size
            if len(buf) < stop + 2:
                self._check_chunked_size(size)
                return False
            if buf[stop : stop + 2] != b"\r\n":
                raise _bad("chunk not followed by CRLF")
            self._check_chunked_size(size)
            self._chunks.append(bytes(buf[start:stop]))
            self._chunked_size += size
            self._pos = stop + 2

    def _check_chunked_size(self, size: int) -> None:
        if self._chunked_size + size > self._max_body:
            raise FetchError("oversized", f"page larger than {self._max_body} bytes")
