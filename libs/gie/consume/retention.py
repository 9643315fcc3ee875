"""Whether a stream still holds every event from a start time on."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import orjson
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError

from gie.consume.errors import GieConsumeError, StartTooOldError

_FRACTION = re.compile(r"\.(\d{6})\d*")


def _server_time(text: str) -> datetime | None:
    """A JetStream timestamp (RFC 3339, nanoseconds) as a datetime; None for the zero time."""
    moment = datetime.fromisoformat(_FRACTION.sub(r".\1", text).replace("Z", "+00:00"))
    return None if moment.year <= 1 else moment.astimezone(UTC)


async def check_start(nc: NatsClient, stream: str, since: datetime) -> None:
    """Raise :class:`StartTooOldError` when the stream removed events stored at or
    after ``since`` (its first kept sequence is past 1 and the oldest kept event, or
    the last removed one when it keeps none, is newer than ``since``)."""
    try:
        reply = await nc.request(f"$JS.API.STREAM.INFO.{stream}", b"", timeout=5)
        info = orjson.loads(reply.data)
    except (NatsError, TimeoutError, orjson.JSONDecodeError) as exc:
        raise GieConsumeError(f"cannot read stream {stream}: {exc!r}") from exc
    if "error" in info:
        raise GieConsumeError(f"cannot read stream {stream}: {info['error'].get('description')}")
    state = info.get("state", {})
    if state.get("first_seq", 1) <= 1:
        return  # nothing was ever removed
    kept_from = state.get("first_ts") if state.get("messages") else state.get("last_ts")
    oldest = _server_time(kept_from) if isinstance(kept_from, str) else None
    if oldest is not None and since < oldest:
        raise StartTooOldError(stream=stream, since=since, oldest=oldest)
