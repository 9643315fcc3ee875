"""``subscribe``: typed routing events from NATS, at least once, deduplicated."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime

import nats
import structlog
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import NotFoundError

from gie.consume.dedup import RecentIds
from gie.consume.errors import GieConsumeError
from gie.consume.gaps import Gap, GapDetector
from gie.consume.messages import decode_message
from gie.consume.raw_event import RawEvent
from gie.consume.retention import check_start
from gie.consume.since import start_of
from gie.events import Event, EventCodec, EventDecodeError, default_codec
from gie.events.cloudevents import BATCH_TYPE, H_TYPE, type_of
from gie.events.lenient import lenient_codec
from gie.events.subjects import PREFIX, pool_filter
from gie.security.credentials import CredentialsError, NatsCredentials

_log = structlog.get_logger("gie.consume")

EVENTS_STREAM = "GIE_EVENTS"


def subject_filter(pool: str | None) -> str:
    """Every subject of ``pool`` (of every pool when None)."""
    return pool_filter(pool) if pool else f"{PREFIX}.>"


def wanted_by_header(msg: Msg, types: frozenset[str]) -> bool:
    """False when the message's ``ce-type`` names a type outside ``types`` (no decode)."""
    if not types or not msg.headers:
        return True
    named = type_of(msg.headers.get(H_TYPE, ""))
    return named is None or named == BATCH_TYPE or named in types


async def subscribe(
    nats_url: str,
    *,
    pool: str | None = None,
    types: Iterable[str] = (),
    since: datetime | str | None = None,
    durable: str | None = None,
    stream: str = EVENTS_STREAM,
    on_gap: Callable[[Gap], object] | None = None,
    gaps: GapDetector | None = None,
    dedup_capacity: int = 100_000,
    ack_wait_s: float = 30.0,
    fetch_batch: int = 64,
    codec: EventCodec | None = None,
    credentials: NatsCredentials | None = None,
) -> AsyncIterator[Event | RawEvent]:
    """Events of ``stream`` (routing and flow events by default), oldest first.

    * ``pool`` / ``types``: only that pool's events, only events of those type names.
    * ``since`` (a time, or text like ``10m`` or an RFC 3339 time): start there;
      :class:`StartTooOldError` when the stream no longer holds all events from then
      on. None: only events published from now on. A durable consumer that already
      exists resumes where it left off and ignores ``since``.
    * ``durable``: the name of a durable pull consumer that outlives this call (run
      several copies of a consumer with one name to share the work). None: an
      ephemeral consumer, removed when the iteration ends.
    * ``credentials``: user, password file and CA of a secured NATS (the third-party
      ``gie-reader`` identity: see docs/security.md); None: anonymous, plain TCP.
    * Delivery is at least once: a message is acknowledged once the body of the
      ``async for`` loop has returned for each of its events. A consumer that stops
      (an exception, a crash) before that gets the message again after ``ack_wait_s``,
      from any copy of the same durable consumer.
    * Duplicates (a redelivered message, a publisher's retry) are dropped by
      ``event_id`` among the last ``dedup_capacity`` events seen.
    * Models tolerate added fields; older schema versions are upcast; an event of a
      type this build does not know (or a newer version) is yielded as a
      :class:`RawEvent`.
    * Gaps in a publisher's ``publisher_seq`` are counted in ``gaps`` (a
      :class:`GapDetector`, made with ``on_gap`` when not given).
    """
    wanted = frozenset(types)
    reader = lenient_codec(codec or default_codec())
    seen = RecentIds(dedup_capacity)
    detector = gaps if gaps is not None else GapDetector(on_gap)
    start = start_of(since)
    try:
        nc = await nats.connect(
            nats_url,
            connect_timeout=5,
            max_reconnect_attempts=-1,
            **(credentials or NatsCredentials()).connect_options(),
        )
    except (NatsError, OSError, TimeoutError, CredentialsError) as exc:
        raise GieConsumeError(f"cannot reach NATS at {nats_url}: {exc!r}") from exc
    js = nc.jetstream()
    ephemeral: str | None = None
    try:
        resuming = durable is not None and await _existing(js, stream, durable, pool)
        if start is not None and not resuming:  # an existing durable ignores since
            await check_start(nc, stream, start)
        sub = await _pull_consumer(
            js, pool=pool, stream=stream, start=start, durable=durable, ack_wait_s=ack_wait_s
        )
        if durable is None:
            ephemeral = (await sub.consumer_info()).name
        while True:
            try:
                msgs = await sub.fetch(fetch_batch, timeout=1.0)
            except TimeoutError:
                # nats-py raises its own TimeoutError, and a bare asyncio one when a
                # loaded server answers the no-wait probe just before the deadline.
                continue
            for msg in msgs:
                for event in _wanted_events(reader, msg, wanted):
                    if event.event_id is not None and event.event_id in seen:
                        continue
                    if isinstance(event, Event):
                        detector.observe(event)
                    yield event  # the loop body runs here
                    if event.event_id is not None:
                        seen.add(event.event_id)
                await msg.ack()
    finally:
        if ephemeral is not None:
            with contextlib.suppress(NatsError, TimeoutError):
                await js.delete_consumer(stream, ephemeral)
        with contextlib.suppress(NatsError, TimeoutError, OSError):
            await nc.close()


async def _existing(js: JetStreamContext, stream: str, durable: str, pool: str | None) -> bool:
    """Whether the durable consumer exists (then it resumes where it stopped);
    GieConsumeError when it reads other subjects than ``pool`` asks for (the server
    would keep its own filter and the change would go unnoticed)."""
    try:
        info = await js.consumer_info(stream, durable)
    except NotFoundError:
        return False
    except NatsError as exc:
        raise GieConsumeError(f"cannot look up consumer {durable!r} on {stream}: {exc}") from exc
    wanted = subject_filter(pool)
    if info.config.filter_subject != wanted:
        raise GieConsumeError(
            f"durable consumer {durable!r} reads {info.config.filter_subject!r}, not "
            f"{wanted!r}: give another durable name, or delete it to start again"
        )
    return True


async def _pull_consumer(
    js: JetStreamContext,
    *,
    pool: str | None,
    stream: str,
    start: datetime | None,
    durable: str | None,
    ack_wait_s: float,
) -> JetStreamContext.PullSubscription:
    config = js_api.ConsumerConfig(
        ack_policy=js_api.AckPolicy.EXPLICIT,
        ack_wait=ack_wait_s,
        deliver_policy=js_api.DeliverPolicy.BY_START_TIME if start else js_api.DeliverPolicy.NEW,
        opt_start_time=start,
    )
    try:
        return await js.pull_subscribe(
            subject_filter(pool), durable=durable, stream=stream, config=config
        )
    except NatsError as exc:
        raise GieConsumeError(f"cannot consume from stream {stream}: {exc}") from exc


def _wanted_events(reader: EventCodec, msg: Msg, wanted: frozenset[str]) -> list[Event | RawEvent]:
    if not wanted_by_header(msg, wanted):
        return []
    try:
        items = decode_message(reader, msg.data)
    except EventDecodeError as exc:
        _log.warning("unreadable message skipped", subject=msg.subject, error=str(exc))
        return []
    return [item.event for item in items if not wanted or item.event.type in wanted]
