"""The reconcile task of the Kubernetes modes: publish whenever either side changed.

Two things mark the state dirty: the API (a watcher's change or list, through
:meth:`ReconcileLoop.on_api_change`) and the stream (an event that changed the folded
view, :meth:`ReconcileLoop.on_state`). Each round publishes the difference between the
source's desired state and the view; changes that arrive meanwhile are coalesced into
the next round.

A round that only the stream started (another replica published something this one's
view did not have) first waits a grace period, ended early by an API change: the other
replica may simply have seen a change in the API a moment before this one, and this
replica's own watch should catch up before it judges. If such a round still publishes,
it is a *correction*: this replica overrides what another one published. Once, that is
a lagging replica being put right. Again and again, it is two replicas that want
different things (differently configured, say two versions during a rollout) and would
otherwise overwrite each other as fast as the stream goes: so corrections are counted
(``gie_ingest_corrections_total``) and logged, and the grace period doubles up to
``max_grace_s`` until a stream-started round finds nothing to publish.

Failed publishes are logged, counted and retried after a backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge

from gie.bus import GieBusError
from gie.events import Endpoint, Event
from gie.view import PoolView
from gie_ingest.kube.backoff import Backoff
from gie_ingest.kube.pool_refs import Rewrite
from gie_ingest.reconciler import Reconciler

_log = structlog.get_logger("gie.ingest")


class DesiredState(Protocol):
    """What the source wants published (``KubeSource``)."""

    @property
    def current(self) -> bool:
        """False while a watcher (re)lists: the desired state is not whole."""
        ...

    def endpoints(self) -> tuple[Endpoint, ...]: ...

    def objectives(self) -> Mapping[str, int] | None: ...

    def rewrites(self) -> Mapping[str, Rewrite] | None: ...


class ReconcileLoop:
    def __init__(
        self,
        reconciler: Reconciler,
        view: PoolView,
        *,
        registry: CollectorRegistry,
        backoff: Backoff,
        grace_s: float = 0.2,
        max_grace_s: float = 5.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.dirty = asyncio.Event()
        self.published_once = False
        self._api_changed = asyncio.Event()
        self._reconciler = reconciler
        self._view = view
        self._backoff = backoff
        self._initial_grace_s = grace_s
        self._max_grace_s = max_grace_s
        self.grace_s = grace_s
        self._sleep = sleep
        self._errors = Counter(
            "gie_ingest_publish_errors_total",
            "Reconcile rounds that failed to publish (retried after a backoff).",
            registry=registry,
        )
        self._corrections = Counter(
            "gie_ingest_corrections_total",
            "Rounds started by another replica's event that still published a change.",
            registry=registry,
        )
        self._endpoints = Gauge(
            "gie_ingest_endpoints", "Endpoints published for the pool.", registry=registry
        )

    def on_api_change(self) -> None:
        """The source's desired state may have changed (watcher handler)."""
        self._api_changed.set()
        self.dirty.set()

    def on_state(self, event: Event) -> None:
        """Follow handler of the pool's state subjects."""
        if self._reconciler.observe(event):
            self.dirty.set()

    def readiness(self) -> str | None:
        if not self.published_once:
            return "the API server's objects are not listed and published yet"
        return None

    async def _grace(self) -> None:
        """Let this replica's watches catch up with what another replica saw."""
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
        # cancellation that arrives as the event is set, and shutdown would hang.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.grace_s):
                await self._api_changed.wait()

    async def run(self, source: DesiredState) -> None:
        while True:
            await self.dirty.wait()
            if not self._api_changed.is_set():
                await self._grace()
            self.dirty.clear()
            started_by_api = self._api_changed.is_set()
            self._api_changed.clear()
            if not source.current:
                continue  # a watcher is (re)listing; it marks dirty when done
            try:
                published = await self._reconciler.reconcile(
                    source.endpoints(), objectives=source.objectives(), rewrites=source.rewrites()
                )
            except GieBusError as exc:
                self._errors.inc()
                delay = self._backoff.next()
                _log.error("publish failed; retrying", error=str(exc), retry_in_s=delay)
                self.on_api_change()  # retry the whole round
                await self._sleep(delay)
                continue
            self._backoff.reset()
            self._endpoints.set(len(self._view))
            self.published_once = True
            if started_by_api:
                continue
            if published:
                self._corrections.inc()
                self.grace_s = min(self._max_grace_s, self.grace_s * 2)
                _log.warning(
                    "corrected what another replica published; do the replicas agree?",
                    changes=published,
                    next_grace_s=self.grace_s,
                )
            else:
                self.grace_s = self._initial_grace_s
