"""Publish events off the hot path: bounded queue, one sender task, counted drops."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from gie.bus.contracts import EventPublisher, NowaitPublisher
from gie.bus.errors import GieBusError
from gie.bus.metrics import BusMetrics
from gie.events import Event

_log = structlog.get_logger("gie.bus")


class BackgroundPublisher:
    """Queues events for publishing without ever blocking the caller.

    ``submit`` MUST be called from the owning event loop. When the queue is
    full the event is dropped and counted (routing must never wait on the
    bus). ``close`` flushes what is queued, within a timeout. With
    ``confirm=False`` events are not acknowledged one by one (cheaper; a
    connection lost at the wrong moment may lose a few) and one task hands
    over everything queued each time it runs (there is nothing to wait for per
    event, and every task wake-up costs more than the hand-over itself); on a bus
    that can take an unconfirmed event synchronously (:class:`NowaitPublisher`) it
    is handed over inside ``submit`` while nothing waits in the queue.
    """

    def __init__(
        self,
        bus: EventPublisher,
        *,
        metrics: BusMetrics,
        max_queue: int = 10_000,
        concurrency: int = 32,
        confirm: bool = True,
    ) -> None:
        self._bus = bus
        self._metrics = metrics
        self._queue: asyncio.Queue[tuple[str, Event]] = asyncio.Queue(max_queue)
        self._concurrency = concurrency
        self._confirm = confirm
        self._tasks: list[asyncio.Task[None]] = []
        self._in_hand = 0
        self._direct = bus if not confirm and isinstance(bus, NowaitPublisher) else None

    def start(self) -> None:
        if not self._tasks:
            tasks = self._concurrency if self._confirm else 1
            self._tasks = [asyncio.create_task(self._run()) for _ in range(tasks)]

    def submit(self, subject: str, event: Event) -> None:
        # Unconfirmed, nothing queued ahead of it (order kept): hand it over now.
        direct = self._direct
        if (
            direct is not None
            and self._queue.empty()
            and self._in_hand == 0
            and direct.publish_nowait(subject, event)
        ):
            return
        try:
            self._queue.put_nowait((subject, event))
        except asyncio.QueueFull:
            self._metrics.dropped.labels(event.type).inc()

    async def close(self, *, timeout_s: float = 5.0) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout_s)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _run(self) -> None:
        while True:
            subject, event = await self._queue.get()
            self._in_hand += 1
            await self._hand_over(subject, event)

    async def _hand_over(self, subject: str, event: Event) -> None:
        try:
            await self._bus.publish(subject, event, confirm=self._confirm)
        except GieBusError as exc:
            _log.warning("event not published", type=event.type, error=str(exc))
        finally:
            self._in_hand -= 1
            self._queue.task_done()
