"""Publish events off the hot path: bounded queue, one sender task, counted drops,
and optionally events held briefly so several share one message."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from gie.bus.contracts import EventPublisher, NowaitPublisher
from gie.bus.errors import GieBusError
from gie.bus.metrics import BusMetrics
from gie.events import Event
from gie.lifecycle import cancel_and_wait

_log = structlog.get_logger("gie.bus")

# Held events go out with the next submit once the oldest has waited this share of
# the longest hold: under steady traffic the timer (a wake-up of its own) never fires.
_RIDE_ALONG = 0.2


class BackgroundPublisher:
    """Queues events for publishing without ever blocking the caller.

    ``submit`` MUST be called from the owning event loop. When the queue is
    full the event is dropped and counted (routing must never wait on the
    bus). ``close`` flushes what is held and queued, within a timeout. With
    ``confirm=False`` events are not acknowledged one by one (cheaper; a
    connection lost at the wrong moment may lose a few) and one task hands
    over everything queued each time it runs (there is nothing to wait for per
    event, and every task wake-up costs more than the hand-over itself); on a bus
    that can take an unconfirmed event synchronously (:class:`NowaitPublisher`) it
    is handed over inside ``submit`` while nothing waits in the queue.

    With ``batch_s > 0`` (unconfirmed, on a :class:`NowaitPublisher` only) events
    are held, then each subject's held events go out as one batch message, in
    submission order: when ``batch_max`` are held, at the first ``submit`` after the
    oldest has waited ``ride_along_s`` (a fifth of ``batch_s`` unless given; riding
    on a wake-up the process has anyway), and at the latest ``batch_s`` after the
    first was held (a timer).
    Order is kept per subject; events of different subjects held in the same
    window may reach the stream in either order.

    ``traceparent`` (the W3C trace context of the request an event is about) goes
    with a message of one event; a batch message holds events of many requests
    and carries none.
    """

    def __init__(
        self,
        bus: EventPublisher,
        *,
        metrics: BusMetrics,
        max_queue: int = 10_000,
        concurrency: int = 32,
        confirm: bool = True,
        batch_s: float = 0.0,
        batch_max: int = 64,
        ride_along_s: float | None = None,
    ) -> None:
        if batch_s < 0 or batch_max < 1:
            raise ValueError("batch_s must be >= 0 and batch_max >= 1")
        if ride_along_s is not None and not 0 <= ride_along_s <= batch_s:
            raise ValueError(f"ride_along_s must be within [0, batch_s], got {ride_along_s}")
        self._bus = bus
        self._metrics = metrics
        self._queue: asyncio.Queue[tuple[str, Event, str | None]] = asyncio.Queue(max_queue)
        self._concurrency = concurrency
        self._confirm = confirm
        self._tasks: list[asyncio.Task[None]] = []
        self._in_hand = 0
        self._direct = bus if not confirm and isinstance(bus, NowaitPublisher) else None
        self._batch_s = batch_s if self._direct is not None else 0.0
        self._batch_max = batch_max
        self._ride_along_s = self._batch_s * _RIDE_ALONG if ride_along_s is None else ride_along_s
        self._held: dict[str, list[Event]] = {}
        self._held_trace: dict[str, str | None] = {}  # of each subject's first held event
        self._held_count = 0
        self._held_since = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        if not self._tasks:
            tasks = self._concurrency if self._confirm else 1
            self._tasks = [asyncio.create_task(self._run()) for _ in range(tasks)]

    def submit(self, subject: str, event: Event, *, traceparent: str | None = None) -> None:
        direct = self._direct
        if direct is not None and self._queue.empty() and self._in_hand == 0:
            # Unconfirmed, nothing queued ahead of it (order kept): hold it for a
            # batch, or hand it over now.
            if self._batch_s:
                self._hold(subject, event, traceparent)
                return
            if direct.publish_nowait(subject, event, traceparent=traceparent):
                return
        self._enqueue(subject, event, traceparent)

    def flush(self) -> None:
        """Send every held event now (one message per subject)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        held, self._held, self._held_count = self._held, {}, 0
        traces, self._held_trace = self._held_trace, {}
        for subject, events in held.items():
            self._send(subject, events, traces.get(subject))

    async def close(self, *, timeout_s: float = 5.0) -> None:
        self.flush()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout_s)
        await cancel_and_wait(self._tasks)  # their publishes await under wait_for
        self._tasks = []

    def _hold(self, subject: str, event: Event, traceparent: str | None) -> None:
        held = self._held.get(subject)
        if held is None:
            held = self._held[subject] = []
            self._held_trace[subject] = traceparent
        held.append(event)
        self._held_count += 1
        loop = asyncio.get_running_loop()
        if self._timer is None:
            self._held_since = loop.time()
            self._timer = loop.call_later(self._batch_s, self.flush)
        if (
            self._held_count >= self._batch_max
            or loop.time() - self._held_since >= self._ride_along_s
        ):
            self.flush()

    def _send(self, subject: str, events: list[Event], traceparent: str | None) -> None:
        direct = self._direct
        assert direct is not None  # only direct publishers hold events
        if self._queue.empty() and self._in_hand == 0:
            sent = (
                direct.publish_nowait(subject, events[0], traceparent=traceparent)
                if len(events) == 1
                else direct.publish_batch_nowait(subject, events)
            )
            if sent:
                return
        for event in events:  # not now (disconnected, buffer full): one by one, in order
            self._enqueue(subject, event, traceparent if len(events) == 1 else None)

    def _enqueue(self, subject: str, event: Event, traceparent: str | None) -> None:
        try:
            self._queue.put_nowait((subject, event, traceparent))
        except asyncio.QueueFull:
            self._metrics.dropped.labels(event.type).inc()

    async def _run(self) -> None:
        while True:
            subject, event, traceparent = await self._queue.get()
            self._in_hand += 1
            await self._hand_over(subject, event, traceparent)

    async def _hand_over(self, subject: str, event: Event, traceparent: str | None) -> None:
        try:
            await self._bus.publish(subject, event, confirm=self._confirm, traceparent=traceparent)
        except GieBusError as exc:
            _log.warning("event not published", type=event.type, error=str(exc))
        except Exception:  # a bug must cost this event, not the sender and all later ones
            _log.exception("event not published: unexpected error", type=event.type)
        finally:
            self._in_hand -= 1
            self._queue.task_done()
