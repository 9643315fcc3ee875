"""In-memory event bus: the same contract as the NATS adapter, for unit tests.

Single event loop only. Events are stored per stream in publish order with the
same retention rules that matter to consumers (per-subject history, duplicate
ids), so a consumer behaves the same on both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gie.bus.contracts import EventHandler
from gie.bus.delivery import deliver as deliver_payload
from gie.bus.errors import BusPublishError
from gie.bus.lag import ConsumerLag, ConsumerPosition
from gie.bus.metrics import BusMetrics
from gie.bus.streams import ALL_STREAMS, Deliver, StreamSpec
from gie.bus.subject_match import subject_matches
from gie.events import Event, EventCodec, default_codec


@dataclass(slots=True)
class _Stored:
    seq: int
    subject: str
    payload: bytes
    stored_at: datetime


@dataclass(slots=True)
class _MemoryFollowing:
    filter_subject: str
    handler: EventHandler
    queue: asyncio.Queue[_Stored] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    caught_up_event: asyncio.Event = field(default_factory=asyncio.Event)
    target_seq: int = 0
    last_seq: int = 0
    lag: ConsumerLag | None = None
    lag_position: ConsumerPosition | None = None

    @property
    def caught_up(self) -> asyncio.Event:
        return self.caught_up_event

    @property
    def position(self) -> int:
        return self.last_seq

    async def stop(self) -> None:
        task, self.task = self.task, None
        if self.lag is not None and self.lag_position is not None:
            self.lag.forget(self.lag_position)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


class MemoryEventBus:
    """A process-local bus with JetStream-like semantics."""

    def __init__(
        self,
        *,
        streams: tuple[StreamSpec, ...] = ALL_STREAMS,
        codec: EventCodec | None = None,
        metrics: BusMetrics | None = None,
    ) -> None:
        self._streams = streams
        self._codec = codec or default_codec()
        self._metrics = metrics or BusMetrics()
        self._log: dict[str, list[_Stored]] = {spec.name: [] for spec in streams}
        self._seen_ids: set[str] = set()
        self._seq = 0
        self._followings: list[tuple[StreamSpec, _MemoryFollowing]] = []

    def stored(self, stream: StreamSpec) -> list[Event]:
        """Every event currently stored in ``stream``, in order (batches unpacked)."""
        return [
            event
            for item in self._log[stream.name]
            for event in self._codec.decode_batch(item.payload).events
        ]

    def messages(self, stream: StreamSpec) -> list[bytes]:
        """The payload of every message stored in ``stream``, in order."""
        return [item.payload for item in self._log[stream.name]]

    async def publish(
        self,
        subject: str,
        event: Event,
        *,
        msg_id: str | None = None,
        confirm: bool = True,
        traceparent: str | None = None,
    ) -> None:
        await self.publish_raw(subject, self._codec.encode(event), msg_id=msg_id or event.event_id)
        self._metrics.published_of(event.type).inc()

    def publish_nowait(self, subject: str, event: Event, *, traceparent: str | None = None) -> bool:
        """Store ``event`` unconfirmed; False when no stream stores ``subject``."""
        return self._store_unconfirmed(subject, self._codec.encode(event), (event,))

    def publish_batch_nowait(self, subject: str, events: Sequence[Event]) -> bool:
        """Store ``events`` as one batch message, as ``publish_nowait`` stores one."""
        return not events or self._store_unconfirmed(
            subject, self._codec.encode_batch(events), events
        )

    def _store_unconfirmed(self, subject: str, payload: bytes, events: Sequence[Event]) -> bool:
        try:
            self._store(subject, payload, msg_id=None)
        except BusPublishError:
            return False
        for event in events:
            self._metrics.published_of(event.type).inc()
        return True

    async def publish_raw(self, subject: str, payload: bytes, *, msg_id: str) -> None:
        """Store raw bytes (lets tests inject malformed payloads)."""
        self._store(subject, payload, msg_id=msg_id)

    def _store(self, subject: str, payload: bytes, *, msg_id: str | None) -> None:
        spec = self._stream_for(subject)
        if msg_id is not None:
            if msg_id in self._seen_ids:
                return
            self._seen_ids.add(msg_id)
        self._seq += 1
        item = _Stored(self._seq, subject, payload, datetime.now(UTC))
        log = self._log[spec.name]
        log.append(item)
        if spec.max_msgs_per_subject > 0:
            same = [stored for stored in log if stored.subject == subject]
            for old in same[: -spec.max_msgs_per_subject]:
                log.remove(old)
        for stream, following in self._followings:
            if stream.name == spec.name and subject_matches(following.filter_subject, subject):
                following.queue.put_nowait(item)

    async def follow(
        self,
        stream: StreamSpec,
        filter_subject: str,
        handler: EventHandler,
        *,
        deliver: Deliver,
        since: datetime | None = None,
        start_seq: int | None = None,
    ) -> _MemoryFollowing:
        following = _MemoryFollowing(filter_subject, handler, lag=self._metrics.lag)
        following.lag_position = self._metrics.lag.position(stream.name)
        backlog = [s for s in self._log[stream.name] if subject_matches(filter_subject, s.subject)]
        if deliver is Deliver.LAST_PER_SUBJECT:
            last: dict[str, _Stored] = {}
            for item in backlog:
                last[item.subject] = item
            backlog = sorted(last.values(), key=lambda s: s.seq)
        elif deliver is Deliver.NEW:
            backlog = []
        elif deliver is Deliver.SINCE:
            if since is None:
                raise ValueError("Deliver.SINCE needs a start time")
            backlog = [item for item in backlog if item.stored_at >= since]
        elif deliver is Deliver.FROM_SEQUENCE:
            if start_seq is None or start_seq < 1:
                raise ValueError("Deliver.FROM_SEQUENCE needs a start sequence >= 1")
            backlog = [item for item in backlog if item.seq >= start_seq]
        for item in backlog:
            following.queue.put_nowait(item)
        following.target_seq = backlog[-1].seq if backlog else 0
        if not backlog:
            following.caught_up_event.set()
        following.task = asyncio.create_task(self._pump(stream, following))
        self._followings.append((stream, following))
        return following

    async def close(self) -> None:
        for _, following in self._followings:
            await following.stop()
        self._followings.clear()

    async def _pump(self, stream: StreamSpec, following: _MemoryFollowing) -> None:
        while True:
            item = await following.queue.get()
            await deliver_payload(
                item.payload,
                subject=item.subject,
                stream=stream.name,
                codec=self._codec,
                handler=following.handler,
                metrics=self._metrics,
                position=following.lag_position,
                pending=following.queue.qsize(),
            )
            following.last_seq = item.seq
            if item.seq >= following.target_seq:
                following.caught_up_event.set()

    def _stream_for(self, subject: str) -> StreamSpec:
        for spec in self._streams:
            if any(subject_matches(pattern, subject) for pattern in spec.subjects):
                return spec
        raise BusPublishError(f"no stream stores subject {subject}")
