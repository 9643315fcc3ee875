"""Events for consumer tests: completions with a publisher sequence, raw payloads,
and a helper that takes the first n events of a subscription."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from gie.events import RequestCompleted

T = TypeVar("T")


def completed(pool: str, n: int, *, seq: int | None = None, tokens: int = 10) -> RequestCompleted:
    return RequestCompleted(
        source="p1",
        pool=pool,
        correlation_id=f"r{n}",
        request_id=f"r{n}",
        target="10.0.0.1:8000",
        picker="p1",
        status=200,
        prompt_tokens=tokens,
        completion_tokens=tokens,
        publisher_seq=seq,
    )


def completed_json(pool: str, n: int, **extra: Any) -> dict[str, Any]:
    """A RequestCompleted as a JSON object, with ``extra`` fields added."""
    return {**completed(pool, n).model_dump(mode="json"), **extra}


async def take(events: AsyncIterator[T], count: int, *, timeout_s: float = 15.0) -> list[T]:
    """The first ``count`` items of ``events``; the iterator is closed afterwards."""
    got: list[T] = []

    async def run() -> None:
        async for item in events:
            got.append(item)
            if len(got) >= count:
                return

    try:
        await asyncio.wait_for(run(), timeout_s)
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
    return got
