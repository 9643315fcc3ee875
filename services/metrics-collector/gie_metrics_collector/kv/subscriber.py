"""Following one endpoint's KV-event stream and republishing it as ``Kv*`` events.

Start (unless the events address is malformed: the follower then only logs and counts
that, once, and idles): the endpoint's own events on the bus are folded into a fresh
:class:`~gie_metrics_collector.kv.tracker.KvTracker` (so a collector taking the endpoint
over knows the server's run, last sequence and hash -> key map), then a SUB socket
connects to the server's PUB socket. Each time it (re)connects, the replay socket is
asked for what the server published while nobody listened; if the server no longer holds
the last applied batch unchanged, it restarted (``KvCacheCleared(restart)``) and its new
run is replayed from 0.

Per message ``[topic, seq, payload]``, with ``last`` the last applied sequence:

* first batch ever seen for the endpoint: ``KvCacheCleared(start)``, a new run;
* ``seq <= last`` and the batch is newer than the last applied (its ``ts``), or
  ``last`` came from the bus: the server restarted, ``KvCacheCleared(restart)``;
  otherwise a duplicate or late batch, dropped;
* ``seq > last + 1``: a gap; the replay socket is asked for everything from ``last + 1``
  and what comes back in order is applied; a gap still open afterwards becomes
  ``KvStateUnknown`` (the endpoint's state is unknown until its next clear);
* then the batch itself is applied and its events published as one bus message.

Unreadable messages are logged and counted, never fatal (the batch is then missing,
which the next one shows as a gap). Replayed batches (up to the server's whole buffer,
10,000 in vLLM) are decoded and applied :data:`YIELD_EVERY` at a time, the event loop
running its other tasks in between.
"""

from __future__ import annotations

import asyncio

import structlog
import zmq
import zmq.asyncio
from zmq.utils.monitor import parse_monitor_message

from gie.bus import KV, Deliver, EventBus
from gie.bus.contracts import NowaitPublisher
from gie.bus.errors import GieBusError
from gie.events import Event, KvClearReason, KvUnknownReason
from gie.events.subjects import kv_subject
from gie.kvevents import EngineBatch, KvWireError, decode_batch, decode_seq
from gie_metrics_collector.kv.addresses import KvAddresses
from gie_metrics_collector.kv.kv_metrics import KvMetrics
from gie_metrics_collector.kv.replay import fetch_replay
from gie_metrics_collector.kv.tracker import KvTracker

__all__ = ["KvSubscriber"]

_log = structlog.get_logger("gie.metrics_collector.kv")

# Events of a restated state per bus message: 4 x 4,096 blocks, about 360 KB.
_RESTATED_EVENTS_PER_MESSAGE = 4

YIELD_EVERY = 64
"""Replayed batches decoded or applied between two turns of the event loop: a whole
replay buffer at once would hold the loop (every other follower, scrape and the HTTP
server) for about half a second."""


async def _pause(done: int) -> None:
    """Let the event loop run other tasks after every :data:`YIELD_EVERY` batches."""
    if done % YIELD_EVERY == 0:
        await asyncio.sleep(0)


class KvSubscriber:
    """One endpoint's KV-event follower; :meth:`run` until cancelled."""

    def __init__(
        self,
        *,
        tracker: KvTracker,
        addresses: KvAddresses,
        bus: EventBus,
        ctx: zmq.asyncio.Context,
        metrics: KvMetrics,
        replay_timeout_s: float,
    ) -> None:
        self.tracker = tracker
        self.addresses = addresses
        self._bus = bus
        self._nowait = bus if isinstance(bus, NowaitPublisher) else None
        self._ctx = ctx
        self._metrics = metrics
        self._replay_timeout_s = replay_timeout_s
        self._subject = kv_subject(tracker.pool, tracker.address)
        self._last_ts: float | None = None
        self._bad_logged = False
        self._restate = False  # a publish failed: the next one restates the whole state

    async def run(self) -> None:
        self._report_malformed()
        events = self.addresses.events
        if events is None:
            # Nothing to follow: the endpoint's precise state stays unknown (the
            # approximate index stands in) until its labels change, which replaces this
            # follower, or it leaves.
            await asyncio.Event().wait()
            return
        await self._restore()
        sub = self._ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.RCVHWM, 100_000)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        monitor = sub.get_monitor_socket(zmq.EVENT_CONNECTED)
        sub.connect(events)
        poller = zmq.asyncio.Poller()
        poller.register(sub, zmq.POLLIN)
        poller.register(monitor, zmq.POLLIN)
        try:
            while True:
                ready = dict(await poller.poll())
                if monitor in ready:
                    parse_monitor_message(await monitor.recv_multipart())
                    await self._on_connected()
                if sub in ready:
                    await self.on_message(await sub.recv_multipart())
        finally:
            sub.disable_monitor()
            monitor.close(linger=0)
            sub.close(linger=0)

    def _report_malformed(self) -> None:
        for socket, value in self.addresses.malformed:
            self._metrics.bad_addresses.labels(socket).inc()
            _log.warning(
                "kv events: malformed socket address, endpoint followed without it",
                endpoint=self.tracker.address,
                socket=socket,
                address=value,
                expected="tcp://HOST:PORT or ipc://PATH",
            )

    async def _restore(self) -> None:
        following = await self._bus.follow(
            KV, self._subject, self.tracker.restore, deliver=Deliver.ALL
        )
        try:
            await following.caught_up.wait()
        finally:
            await following.stop()

    async def _on_connected(self) -> None:
        """The SUB socket (re)connected: catch up on what the server published while
        nobody listened (before the first connection, between owners, or while the
        connection was down), and notice a restart whose batches all went by unseen."""
        tracker = self.tracker
        if self.addresses.replay is None:
            return
        if self._last_ts is None:  # nothing applied yet by this follower
            await self._feed(await self._replay(tracker.last_seq + 1))
            return
        # Same run when the server still holds our last batch, unchanged.
        replayed = await self._replay(tracker.last_seq)
        if replayed and replayed[0][0] == tracker.last_seq and replayed[0][1].ts == self._last_ts:
            await self._feed(replayed[1:])
            return
        replayed = await self._replay(0)
        if replayed and replayed[0][1].ts > self._last_ts:
            self._metrics.restarts.inc()
            _log.info("kv events: server restarted", endpoint=tracker.address)
            await self._publish([tracker.begin(KvClearReason.RESTART)])
            await self._feed(replayed)

    async def _replay(self, start: int) -> list[tuple[int, EngineBatch]]:
        """The decoded batches the server holds from ``start`` on (stops at a bad one)."""
        assert self.addresses.replay is not None
        out: list[tuple[int, EngineBatch]] = []
        try:
            replayed = await fetch_replay(
                self._ctx, self.addresses.replay, start, timeout_s=self._replay_timeout_s
            )
            for count, (seq, payload) in enumerate(replayed, 1):
                out.append((seq, decode_batch(payload)))
                await _pause(count)
        except KvWireError as exc:
            self._bad(exc)
        return out

    async def _feed(self, batches: list[tuple[int, EngineBatch]]) -> None:
        for count, (seq, batch) in enumerate(batches, 1):
            await self.on_batch(seq, batch)
            await _pause(count)

    async def on_message(self, frames: list[bytes]) -> None:
        """Handle one live message."""
        try:
            if len(frames) != 3:
                raise KvWireError(f"message has {len(frames)} frames, expected 3")
            seq, batch = decode_seq(frames[1]), decode_batch(frames[2])
        except KvWireError as exc:
            self._bad(exc)
            return
        await self.on_batch(seq, batch)

    async def on_batch(self, seq: int, batch: EngineBatch) -> None:
        """Handle batch ``seq`` (live, or replayed on catching up)."""
        tracker = self.tracker
        if tracker.epoch is None:
            await self._publish([tracker.begin(KvClearReason.START)])
        elif seq <= tracker.last_seq:
            if self._last_ts is not None and batch.ts <= self._last_ts:
                return  # a duplicate, or a late batch already replayed
            self._metrics.restarts.inc()
            _log.info("kv events: server restarted", endpoint=tracker.address, seq=seq)
            await self._publish([tracker.begin(KvClearReason.RESTART)])
        if seq > tracker.last_seq + 1:
            await self._fill(seq)
        if seq == tracker.last_seq + 1:
            await self._apply(seq, batch)

    async def _apply(self, seq: int, batch: EngineBatch) -> None:
        events = self.tracker.apply(seq, batch)
        self._last_ts = batch.ts
        self._metrics.batches.inc()
        for reason, count in self.tracker.counts.take().items():
            self._metrics.skipped.labels(reason).inc(count)
        await self._publish(events)

    async def _fill(self, seq: int) -> None:
        tracker = self.tracker
        start = tracker.last_seq + 1
        replayed = await self._replay(start) if self.addresses.replay is not None else []
        for count, (replayed_seq, batch) in enumerate(replayed, 1):
            if replayed_seq >= seq or replayed_seq > tracker.last_seq + 1:
                break  # reached the live batch, or a hole the server no longer holds
            if replayed_seq <= tracker.last_seq:
                continue
            await self._apply(replayed_seq, batch)
            await _pause(count)
        if tracker.last_seq + 1 >= seq:
            self._metrics.gaps.labels("filled").inc()
            return
        self._metrics.gaps.labels("unfilled").inc()
        reason = KvUnknownReason.NO_HISTORY if start == 0 else KvUnknownReason.GAP
        _log.warning(
            "kv events: batches lost, cache state unknown until the server clears it",
            endpoint=tracker.address,
            missing_from=tracker.last_seq + 1,
            missing_to=seq - 1,
            reason=reason.value,
        )
        await self._publish([tracker.lost(tracker.last_seq + 1, seq - 1, reason)])

    async def _publish(self, events: list[Event]) -> None:
        """``events`` (the tracker has already applied them). After a failed publish the
        consumers may hold a wrong state: the next publish restates the whole state
        instead (it includes ``events``), until that gets through."""
        if self._restate:
            restated = self.tracker.restated()
            for start in range(0, len(restated), _RESTATED_EVENTS_PER_MESSAGE):
                if not await self._send(restated[start : start + _RESTATED_EVENTS_PER_MESSAGE]):
                    return  # again at the next publish, from its KvCacheCleared
            self._restate = False
            self._metrics.restated.inc()
            _log.info(
                "kv events: state restated", endpoint=self.tracker.address, events=len(restated)
            )
            return
        if not await self._send(events):
            self._restate = True

    async def _send(self, events: list[Event]) -> bool:
        if not events:
            return True
        if self._nowait is not None and self._nowait.publish_batch_nowait(self._subject, events):
            return True
        for event in events:
            try:
                await self._bus.publish(self._subject, event)
            except GieBusError as exc:
                self._metrics.publish_errors.inc()
                _log.warning(
                    "kv event not published; the state will be restated",
                    endpoint=self.tracker.address,
                    error=str(exc),
                )
                return False
        return True

    def _bad(self, exc: Exception) -> None:
        self._metrics.bad_messages.inc()
        if not self._bad_logged:  # once per follower: a broken server would flood the log
            self._bad_logged = True
            _log.warning(
                "kv events: unreadable message", endpoint=self.tracker.address, error=str(exc)
            )
