"""Following a stream without acknowledging anything: what ``gie events tail`` reads."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nats
import structlog
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import api as js_api

from gie.consume.errors import GieConsumeError
from gie.consume.messages import decode_message
from gie.consume.raw_event import RawEvent
from gie.consume.retention import check_start
from gie.consume.since import start_of
from gie.consume.subscribe import EVENTS_STREAM, subject_filter, wanted_by_header
from gie.events import Event, EventCodec, EventDecodeError, default_codec
from gie.events.lenient import lenient_codec
from gie.security.credentials import CredentialsError, NatsCredentials

_log = structlog.get_logger("gie.consume")


@dataclass(frozen=True, slots=True)
class TailedEvent:
    """One event as the stream holds it: the message's subject, stream sequence and
    headers (shared by the events of a batch), the event's JSON object as published,
    and what it decodes to."""

    subject: str
    stream: str
    seq: int
    headers: dict[str, str]
    raw: dict[str, Any]
    event: Event | RawEvent


async def tail(
    nats_url: str,
    *,
    pool: str | None = None,
    types: Iterable[str] = (),
    since: datetime | None = None,
    stream: str = EVENTS_STREAM,
    codec: EventCodec | None = None,
    credentials: NatsCredentials | None = None,
) -> AsyncIterator[TailedEvent]:
    """Events of ``stream`` from ``since`` (None: from now on; a time without offset is
    UTC), batches unpacked,
    through an ordered consumer that acknowledges nothing and leaves nothing behind.
    :class:`StartTooOldError` when the stream no longer holds everything from ``since``."""
    wanted = frozenset(types)
    reader = lenient_codec(codec or default_codec())
    since = start_of(since)
    try:
        nc = await nats.connect(
            nats_url,
            connect_timeout=5,
            max_reconnect_attempts=-1,
            **(credentials or NatsCredentials()).connect_options(),
        )
    except (NatsError, OSError, TimeoutError, CredentialsError) as exc:
        raise GieConsumeError(f"cannot reach NATS at {nats_url}: {exc!r}") from exc
    try:
        if since is not None:
            await check_start(nc, stream, since)
        config = js_api.ConsumerConfig(opt_start_time=since) if since else None
        try:
            sub = await nc.jetstream().subscribe(
                subject_filter(pool),
                stream=stream,
                ordered_consumer=True,
                deliver_policy=(
                    js_api.DeliverPolicy.BY_START_TIME if since else js_api.DeliverPolicy.NEW
                ),
                config=config,
            )
        except NatsError as exc:
            raise GieConsumeError(f"cannot follow stream {stream}: {exc}") from exc
        if config is not None:
            # nats-py re-creates the ordered consumer with this config after a gap or a
            # server restart, from the next sequence: a start time left in it makes the
            # server refuse every re-creation, and the tail would wait for ever.
            config.opt_start_time = None
        while True:
            try:
                msg = await sub.next_msg(timeout=1.0)
            except NatsTimeoutError:
                continue
            if not wanted_by_header(msg, wanted):
                continue
            try:
                items = decode_message(reader, msg.data)
            except EventDecodeError as exc:
                _log.warning("unreadable message skipped", subject=msg.subject, error=str(exc))
                continue
            headers = dict(msg.headers or {})
            seq = msg.metadata.sequence.stream
            for item in items:
                if not wanted or item.type in wanted:
                    yield TailedEvent(msg.subject, stream, seq, headers, item.raw, item.event)
    finally:
        with contextlib.suppress(NatsError, TimeoutError, OSError):
            await nc.close()
