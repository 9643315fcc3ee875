"""Send one streaming request and time it: TTFT at the first content chunk.

The response is read as Server-Sent Events (``data: {...}`` lines, ``data: [DONE]``).
A *content chunk* is one whose first choice carries text (``text`` for completions,
``delta.content`` for chat). Token counts come from the final ``usage`` chunk, or from
the number of content chunks when a router drops it. Errors never raise: they become a
:class:`RequestResult` with ``ok == False`` and a short ``error``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from bench.workloads import BenchRequest

__all__ = ["RequestResult", "send_streaming"]

SERVED_BY = "x-served-by"
_DATA = b"data: "
_DONE = b"[DONE]"


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestResult:
    index: int
    group: str
    status: int | None  # None: no HTTP response (connection error, timeout)
    served_by: str | None
    sent_at: float  # seconds since the load started
    lateness_s: float  # how late the client sent it versus its due time
    ttft_s: float | None
    latency_s: float
    output_tokens: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None and self.output_tokens > 0

    @property
    def finished_at(self) -> float:
        return self.sent_at + self.latency_s


def _has_content(chunk: dict[str, Any]) -> bool:
    choices = chunk.get("choices")
    if not choices:
        return False
    first = choices[0]
    delta = first.get("delta")
    text = delta.get("content") if isinstance(delta, dict) else first.get("text")
    return bool(text)


@dataclass
class _Stream:
    ttft_s: float | None = None
    chunks: int = 0
    usage: dict[str, Any] | None = None
    done: bool = False


async def _read_events(response: aiohttp.ClientResponse, started: float) -> _Stream:
    stream = _Stream()
    async for raw in response.content:
        line = raw.strip()
        if not line.startswith(_DATA):
            continue
        payload = line[len(_DATA) :]
        if payload == _DONE:
            stream.done = True
            break
        chunk = orjson.loads(payload)
        if _has_content(chunk):
            stream.chunks += 1
            if stream.ttft_s is None:
                stream.ttft_s = time.perf_counter() - started
        if isinstance(chunk.get("usage"), dict):
            stream.usage = chunk["usage"]
    return stream


async def send_streaming(
    session: aiohttp.ClientSession,
    base_url: str,
    request: BenchRequest,
    *,
    origin: float,
    due: float,
) -> RequestResult:
    """POST ``request`` to ``base_url`` now; times are relative to ``origin`` (perf_counter)."""
    started = time.perf_counter()
    sent_at = started - origin
    lateness = max(0.0, sent_at - due)
    status: int | None = None
    served_by: str | None = None
    error: str | None = None
    stream = _Stream()
    try:
        async with session.post(base_url + request.path, json=request.body) as response:
            status, served_by = response.status, response.headers.get(SERVED_BY)
            if status == 200:
                stream = await _read_events(response, started)
            else:
                error = f"HTTP {status}: {(await response.text(errors='replace'))[:200]}"
    except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:200]
    if error is None and not stream.done:
        error = "stream ended without [DONE]"
    usage = stream.usage or {}
    details = usage.get("prompt_tokens_details") or {}
    return RequestResult(
        index=request.index,
        group=request.group,
        status=status,
        served_by=served_by,
        sent_at=sent_at,
        lateness_s=lateness,
        ttft_s=stream.ttft_s,
        latency_s=time.perf_counter() - started,
        output_tokens=int(usage.get("completion_tokens", stream.chunks)),
        prompt_tokens=int(usage.get("prompt_tokens", 0)),
        cached_tokens=int(details.get("cached_tokens", 0)),
        error=error,
    )
