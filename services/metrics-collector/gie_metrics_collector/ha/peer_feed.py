"""Other replicas' metrics events, followed only while there are other replicas.

A lone replica knows every published metric already (it published them); with peers, the
monitor also needs theirs to judge the whole pool. Switching is driven by membership
changes (sync callbacks) and done by one task at a time.
"""

from __future__ import annotations

import asyncio

import structlog

from gie.bus import STATE, Deliver, EventBus, EventHandler, Following, GieBusError
from gie.events.subjects import pool_prefix

__all__ = ["PeerMetricsFeed"]

_log = structlog.get_logger("gie.metrics_collector.ha")


class PeerMetricsFeed:
    def __init__(self, bus: EventBus, *, pool: str, handler: EventHandler) -> None:
        self._bus = bus
        self._filter = f"{pool_prefix(pool)}.metrics.>"
        self._handler = handler
        self._wanted = False
        self._following: Following | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self._following is not None

    def want_for(self, members: frozenset[str]) -> None:
        """Membership listener: follow peers' metrics exactly while there are peers."""
        self.want(len(members) > 1)

    def want(self, on: bool) -> None:
        """Follow peers' metrics (or stop); takes effect shortly, in the background."""
        self._wanted = on
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._reconcile(), name="peer metrics feed")

    async def close(self) -> None:
        self._wanted = False
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        await self._reconcile()

    async def _reconcile(self) -> None:
        while self._wanted != (self._following is not None):
            if self._wanted:
                try:
                    self._following = await self._bus.follow(
                        STATE, self._filter, self._handler, deliver=Deliver.LAST_PER_SUBJECT
                    )
                except GieBusError as exc:
                    _log.warning("cannot follow peers' metrics; retrying", error=str(exc))
                    await asyncio.sleep(1.0)
                    continue
                _log.info("following peers' metrics")
            else:
                following, self._following = self._following, None
                if following is not None:
                    await following.stop()
                _log.info("stopped following peers' metrics")
