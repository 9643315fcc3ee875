"""A watch over a bus's followings: a following whose consumer is gone is noticed,
reported and re-created from where it stopped.

nats-py re-creates an ordered consumer itself after a gap or a server restart; when
that re-creation fails (the server refuses it, or the request is lost) the
subscription stays quiet for ever and the service would serve from a frozen view.
Every ``check_interval_s`` the watch asks the server for each following's consumer
(one JetStream API request each). A following whose consumer the server does not
know is *stale* from that moment: readiness reports it once it has been stale for
the service's allowed view lag, and after ``heal_after_s`` the watch subscribes
again from the next stream sequence after the last one the following applied
(nothing missed, nothing applied twice), counting it in
``gie_bus_following_restarts_total``.

After a reconnection (:meth:`FollowingWatch.resume_all`) every following is
re-created at once the same way: a server that restarted has lost the consumers, and
nats-py would notice only once it has missed the old consumer's idle heartbeats,
seconds later, while the service serves from a view that no longer moves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import structlog

from gie.bus.metrics import BusMetrics
from gie.lifecycle import cancel_and_wait

_log = structlog.get_logger("gie.bus")


class Watched(Protocol):
    """What the watch needs of a following."""

    @property
    def stream_name(self) -> str: ...

    @property
    def description(self) -> str: ...

    stale_since: float | None

    async def consumer_alive(self) -> bool: ...

    async def restart(self) -> None: ...


class FollowingWatch:
    """Checks ``followings()`` every ``check_interval_s`` while ``connected()``."""

    def __init__(
        self,
        followings: Callable[[], Sequence[Watched]],
        connected: Callable[[], bool],
        metrics: BusMetrics,
        *,
        check_interval_s: float = 2.0,
        heal_after_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._followings = followings
        self._connected = connected
        self._metrics = metrics
        self._check_interval_s = check_interval_s
        self._heal_after_s = heal_after_s
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._resume: asyncio.Task[None] | None = None
        self._resume_wanted = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="gie-following-watch")

    async def stop(self) -> None:
        # Cancelled again until they end: a round awaits nats-py requests, under
        # wait_for, which can swallow a cancellation on Python 3.11.
        await cancel_and_wait([t for t in (self._task, self._resume) if t is not None])
        self._task = self._resume = None

    def resume_all(self) -> None:
        """Re-create every following's consumer from where it stopped, in a task (a
        reconnection during one round asks for another round after it)."""
        self._resume_wanted = True
        if self._resume is None or self._resume.done():
            self._resume = asyncio.create_task(self._resume_rounds(), name="gie-following-resume")

    async def _resume_rounds(self) -> None:
        while self._resume_wanted:
            self._resume_wanted = False
            for following in list(self._followings()):
                await self._restart(following, reason="reconnected")

    async def _restart(self, following: Watched, *, reason: str) -> bool:
        try:
            await following.restart()
        except Exception as exc:  # the watch's next rounds try again
            _log.error(
                "re-creating an event stream consumer failed",
                following=following.description,
                error=str(exc),
            )
            return False
        self._metrics.following_restarts.labels(following.stream_name).inc()
        following.stale_since = None
        _log.warning(
            "event stream consumer re-created", following=following.description, reason=reason
        )
        return True

    def stale(self, longer_than_s: float) -> str | None:
        """Readiness: the followings stale for more than ``longer_than_s``."""
        now = self._clock()
        late = [
            f.description
            for f in self._followings()
            if f.stale_since is not None and now - f.stale_since > longer_than_s
        ]
        return f"event stream consumer gone: {', '.join(late)}" if late else None

    async def check_once(self) -> None:
        """One round: note which consumers are gone, re-create those gone too long."""
        if not self._connected():
            return  # NATS itself is down: readiness says so, nats-py reconnects
        for following in list(self._followings()):
            alive = await _within(following.consumer_alive(), self._check_interval_s)
            now = self._clock()
            if alive:
                following.stale_since = None
                continue
            if following.stale_since is None:
                following.stale_since = now
                _log.warning("event stream consumer gone", following=following.description)
                continue
            if now - following.stale_since < self._heal_after_s:
                continue
            await self._restart(following, reason="consumer gone")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._check_interval_s)
            try:
                await self.check_once()
            except Exception as exc:  # never let the watch die
                _log.error("following watch round failed", error=str(exc))


async def _within(check: Awaitable[bool], timeout_s: float) -> bool:
    try:
        async with asyncio.timeout(timeout_s):
            return await check
    except TimeoutError:
        return False
