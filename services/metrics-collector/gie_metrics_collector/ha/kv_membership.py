"""Collector replicas find each other through a NATS KV bucket with TTL heartbeats.

Each replica puts ``<pool>.<instance>`` into the bucket every ``heartbeat_s`` and watches
the pool's keys. A peer counts as live while its last put was seen less than
``1.5 * heartbeat_s`` ago (measured on this replica's monotonic clock, so clock skew
between machines does not matter); a graceful stop deletes the key, so peers take over at
once. A crashed replica's endpoints are therefore taken over within
``1.5 * heartbeat_s`` plus one sweep (``heartbeat_s / 10``): under two heartbeats. The
bucket's TTL (``3 * heartbeat_s``) only garbage-collects keys of dead replicas.

Entering waits until the watch has delivered the bucket's current keys, at most
``sync_timeout_s``: then it goes on with the members seen so far (logged and counted;
the watch keeps running, so the others appear as their keys arrive, and meanwhile this
replica may scrape endpoints a peer scrapes too, which is harmless). A watch that ends
before that makes entering fail with :class:`MembershipError`, everything closed. A key
under the pool's prefix that is not ``<pool>.<instance>`` (written by something else) is
skipped, counted, and logged the first time it is seen.

The adapter owns its own NATS connection. Shutdown stops the watcher before draining
(a live watcher makes ``drain`` hang for 30 s). Concurrency: three tasks on one event
loop (heartbeat, watch, sweep); listeners run on that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

import nats
import orjson
import structlog
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import BadRequestError
from nats.js.kv import KeyValue
from prometheus_client import CollectorRegistry

from gie.bus.closing import drain_or_close
from gie.clock import Clock
from gie.events.subjects import escape_token, unescape_token
from gie.lifecycle import cancel_and_wait
from gie.security.credentials import CredentialsError, NatsCredentials
from gie_metrics_collector.errors import MembershipError
from gie_metrics_collector.ha.contracts import MembershipListener
from gie_metrics_collector.ha.membership_metrics import MembershipMetrics

__all__ = ["KvMembership"]

_log = structlog.get_logger("gie.metrics_collector.ha")
_DEAD_AFTER = 1.5  # heartbeats without a put before a peer counts as gone
_TTL = 3.0  # heartbeats a key lives in the bucket after its last put
_SWEEPS_PER_HEARTBEAT = 10
_MALFORMED_LOGGED = 1024  # distinct malformed keys logged (each is counted regardless)


def _report_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        _log.error(
            "membership task ended; peers will look gone and this replica takes over",
            task=task.get_name(),
            exc_info=task.exception(),
        )


class KvMembership:
    """Membership through the NATS KV bucket ``bucket``."""

    def __init__(
        self,
        *,
        nats_url: str,
        bucket: str,
        pool: str,
        me: str,
        heartbeat_s: float,
        clock: Clock,
        connect_timeout_s: float = 30.0,
        sync_timeout_s: float = 10.0,
        registry: CollectorRegistry | None = None,
        credentials: NatsCredentials | None = None,
    ) -> None:
        self._url = nats_url
        self._credentials = credentials or NatsCredentials()
        self._bucket = bucket
        self._prefix = escape_token(pool)
        self._me = me
        self._key = f"{self._prefix}.{escape_token(me)}"
        self._heartbeat_s = heartbeat_s
        self._clock = clock
        self._connect_timeout_s = connect_timeout_s
        self._sync_timeout_s = sync_timeout_s
        self._metrics = MembershipMetrics(registry)
        self._malformed_seen: set[str] = set()
        self._members = frozenset({me})
        self._seen: dict[str, float] = {}
        self._beats: dict[str, float] = {}  # each peer's own heartbeat_s, from its value
        self._listeners: list[MembershipListener] = []
        self._nc: NatsClient | None = None
        self._kv: KeyValue | None = None
        self._watcher: KeyValue.KeyWatcher | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._synced = asyncio.Event()
        self._js: JetStreamContext | None = None
        self._initial = True  # the current watch is still delivering the bucket's keys
        self._own_seen = 0.0  # monotonic time the watch last brought our own put back
        self._watch_started = 0.0

    @property
    def members(self) -> frozenset[str]:
        return self._members

    def on_change(self, listener: MembershipListener) -> None:
        self._listeners.append(listener)

    async def __aenter__(self) -> KvMembership:
        try:
            self._nc = await nats.connect(
                servers=[self._url],
                name=f"gie-metrics-collector-membership-{self._me}",
                connect_timeout=min(self._connect_timeout_s, 5.0),
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                **self._credentials.connect_options(),
            )
            self._js = self._nc.jetstream()
            self._kv = await self._bucket_kv()
            await self._kv.put(self._key, self._value())
            self._watcher = await self._kv.watch(f"{self._prefix}.>")
            self._watch_started = self._clock.monotonic()
        except (NatsError, OSError, TimeoutError, CredentialsError) as exc:
            await self._close_connection()
            raise MembershipError(f"membership bucket {self._bucket} unusable: {exc!r}") from exc
        self._tasks = [
            asyncio.create_task(self._heartbeats(), name="membership heartbeat"),
            asyncio.create_task(self._watch(self._watcher), name="membership watch"),
            asyncio.create_task(self._sweeps(), name="membership sweep"),
        ]
        for task in self._tasks:
            task.add_done_callback(_report_end)
        try:
            await self._wait_synced(self._tasks[1])
        except BaseException:
            await self.__aexit__()
            raise
        _log.info("joined collector membership", bucket=self._bucket, members=sorted(self._members))
        return self

    async def _wait_synced(self, watch: asyncio.Task[None]) -> None:
        """Until the watch delivered the bucket's current keys, at most sync_timeout_s.

        Raises MembershipError when the watch ends first."""
        synced = asyncio.create_task(self._synced.wait())
        try:
            await asyncio.wait(
                {synced, watch}, timeout=self._sync_timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            synced.cancel()
        if self._synced.is_set():
            return
        if watch.done():
            error = None if watch.cancelled() else watch.exception()
            raise MembershipError(
                f"membership watch of bucket {self._bucket} ended before its keys were read: "
                f"{error!r}"
            ) from error
        self._metrics.sync_timeouts.inc()
        _log.warning(
            "membership not synced in time",
            bucket=self._bucket,
            me=self._me,
            timeout_s=self._sync_timeout_s,
            members=sorted(self._seen.keys() | {self._me}),
        )

    async def __aexit__(self, *exc: object) -> None:
        await cancel_and_wait(self._tasks)  # their NATS requests await under wait_for
        self._tasks = []
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            with contextlib.suppress(NatsError, TimeoutError):
                await watcher.stop()  # type: ignore[no-untyped-call]
        if self._kv is not None:
            try:
                await self._kv.delete(self._key)  # peers take over at once
            except (NatsError, TimeoutError) as error:
                _log.warning("could not leave membership", error=repr(error))
        await self._close_connection()

    async def _bucket_kv(self) -> KeyValue:
        """The bucket, made when missing (it has one replica: it is rebuilt, not kept)."""
        assert self._js is not None
        try:
            return await self._js.create_key_value(
                bucket=self._bucket, ttl=_TTL * self._heartbeat_s, history=1
            )
        except BadRequestError:  # exists with other settings (another heartbeat)
            return await self._js.key_value(self._bucket)

    async def _recover(self) -> None:
        """Our own heartbeats stopped coming back: make the bucket if it is gone and watch
        it again (nats-py re-creates a lost watch consumer only after 10 s or more)."""
        assert self._kv is not None
        try:
            await self._kv.status()
        except NatsError:
            self._kv = await self._bucket_kv()
            self._metrics.recoveries.labels("bucket").inc()
            await self._kv.put(self._key, self._value())
        old, self._watcher = self._watcher, await self._kv.watch(f"{self._prefix}.>")
        self._watch_started = self._clock.monotonic()
        self._initial = True
        watch_task = self._tasks[1]
        self._tasks[1] = asyncio.create_task(self._watch(self._watcher), name="membership watch")
        self._tasks[1].add_done_callback(_report_end)
        watch_task.cancel()
        if old is not None:
            with contextlib.suppress(NatsError, TimeoutError):
                await old.stop()  # type: ignore[no-untyped-call]
        self._metrics.recoveries.labels("watch").inc()
        _log.warning("membership watch re-created", bucket=self._bucket, me=self._me)

    def _value(self) -> bytes:
        return orjson.dumps({"instance": self._me, "heartbeat_s": self._heartbeat_s})

    async def _heartbeats(self) -> None:
        assert self._kv is not None
        failing = False
        while True:
            await asyncio.sleep(self._heartbeat_s)
            try:
                await self._kv.put(self._key, self._value())
                if self._watch_lost():
                    await self._recover()
            except (NatsError, TimeoutError) as exc:
                if not failing:
                    _log.warning("membership heartbeat failed", error=repr(exc))
                failing = True
                with contextlib.suppress(NatsError, TimeoutError):
                    await self._recover()  # a deleted bucket: made again
                continue
            if failing:
                _log.info("membership heartbeat recovered")
            failing = False

    def _watch_lost(self) -> bool:
        """Whether our own puts have not come back for 3 heartbeats (a watch that has
        had that long to deliver one)."""
        now = self._clock.monotonic()
        limit = _TTL * self._heartbeat_s
        return now - self._watch_started > limit and now - self._own_seen > limit

    async def _watch(self, watcher: KeyValue.KeyWatcher) -> None:
        async for entry in watcher:
            if entry is None:  # the initial values have all been delivered
                self._synced.set()
                self._initial = False
                continue
            try:
                member = unescape_token(entry.key.split(".", 1)[1])
            except (IndexError, ValueError) as exc:
                self._skip_malformed(entry.key, exc)
                continue
            if member == self._me:
                self._own_seen = self._clock.monotonic()
            if entry.operation in ("DEL", "PURGE"):
                self._seen.pop(member, None)
                self._beats.pop(member, None)
            else:
                self._seen[member] = self._put_at(entry)
                self._beats[member] = _heartbeat_of(entry.value, self._heartbeat_s)
            self._evaluate()

    def _put_at(self, entry: KeyValue.Entry) -> float:
        """When (monotonic) the member last put its key: now for a live update; for the
        initial values, as long ago as the entry is old (a dead peer's leftover key,
        within the bucket's TTL, must not count as a fresh heartbeat)."""
        now = self._clock.monotonic()
        created: object = entry.created
        if not self._initial or not isinstance(created, datetime):
            return now
        return now - max(0.0, (self._clock.now() - created).total_seconds())

    def _skip_malformed(self, key: str, error: Exception) -> None:
        self._metrics.malformed_keys.inc()
        if key in self._malformed_seen or len(self._malformed_seen) >= _MALFORMED_LOGGED:
            return
        self._malformed_seen.add(key)
        _log.warning(
            "malformed membership key skipped",
            bucket=self._bucket,
            key=key,
            error=repr(error),
        )

    async def _sweeps(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_s / _SWEEPS_PER_HEARTBEAT)
            self._evaluate()

    def _evaluate(self) -> None:
        now = self._clock.monotonic()
        # Each peer by the slower of its heartbeat and ours: during a rolling change of
        # GIE_MEMBERSHIP_HEARTBEAT_S, a slower peer is not dropped between its puts.
        live = frozenset(
            member
            for member, seen in self._seen.items()
            if now - seen <= _DEAD_AFTER * max(self._heartbeat_s, self._beats.get(member, 0.0))
        ) | {self._me}
        if live == self._members:
            return
        joined, left = sorted(live - self._members), sorted(self._members - live)
        self._members = live
        _log.info("collector membership changed", members=sorted(live), joined=joined, left=left)
        for listener in self._listeners:
            listener(live)

    async def _close_connection(self) -> None:
        nc, self._nc = self._nc, None
        await drain_or_close(nc)


def _heartbeat_of(value: bytes | None, default: float) -> float:
    """The ``heartbeat_s`` a member wrote in its value; ``default`` when unreadable."""
    try:
        beat = orjson.loads(value or b"{}").get("heartbeat_s")
    except (orjson.JSONDecodeError, AttributeError):
        return default
    return float(beat) if isinstance(beat, int | float) and 0 < beat <= 3600 else default
