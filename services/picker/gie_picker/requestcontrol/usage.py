"""Token usage read from a model server's response, JSON or SSE, in bounded memory.

JSON responses are buffered up to ``max_json_bytes`` and parsed at the end.
SSE streams are scanned event by event; only the latest event carrying a
``usage`` object is kept (servers send it last, before ``data: [DONE]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def usage_from(payload: object) -> Usage | None:
    """The ``usage`` of a completion or chunk object, if it has one."""
    if not isinstance(payload, dict):
        return None
    usage = payload.get("usage")
    if not isinstance(usage, dict):
        return None
    details = usage.get("prompt_tokens_details")
    cached = _int(details.get("cached_tokens")) if isinstance(details, dict) else None
    return Usage(_int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens")), cached)


class UsageParser:
    """Feed response body chunks; read ``usage`` once the body ended."""

    def __init__(self, *, streaming: bool, max_json_bytes: int = 4 * 1024 * 1024) -> None:
        self._streaming = streaming
        self._max_json_bytes = max_json_bytes
        self._buffer = bytearray()
        self._overflow = False
        self.usage: Usage | None = None

    def feed(self, chunk: bytes) -> None:
        if self._streaming:
            self._feed_sse(chunk)
            return
        if self._overflow:
            return
        if len(self._buffer) + len(chunk) > self._max_json_bytes:
            self._overflow = True
            self._buffer.clear()
            return
        self._buffer += chunk

    def finish(self) -> Usage | None:
        if self._streaming:
            self._feed_sse(b"\n\n")
        elif not self._overflow and self._buffer:
            try:
                self.usage = usage_from(orjson.loads(self._buffer))
            except orjson.JSONDecodeError:
                self.usage = None
            self._buffer.clear()
        return self.usage

    def _feed_sse(self, chunk: bytes) -> None:
        self._buffer += chunk
        if b"\r" in self._buffer:
            # Lines may end in CRLF (SSE allows it); a CR at the end of a chunk stays
            # until its LF arrives with the next one.
            self._buffer = bytearray(self._buffer.replace(b"\r\n", b"\n"))
        while True:
            end = self._buffer.find(b"\n\n")
            if end < 0:
                break
            event = bytes(self._buffer[:end])
            del self._buffer[: end + 2]
            self._on_event(event)
        if len(self._buffer) > self._max_json_bytes:  # one event may not grow without bound
            self._buffer.clear()

    def _on_event(self, event: bytes) -> None:
        data = b"".join(
            line[5:].strip() for line in event.splitlines() if line.startswith(b"data:")
        )
        if not data or data == b"[DONE]" or b'"usage"' not in data:
            return
        try:
            usage = usage_from(orjson.loads(data))
        except orjson.JSONDecodeError:
            return
        if usage is not None:
            self.usage = usage
