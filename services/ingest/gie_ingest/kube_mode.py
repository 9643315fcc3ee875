"""Ingest in Kubernetes mode (``GIE_DISCOVERY=kubernetes`` or ``selector``).

Three kinds of task on one loop: the watchers of :class:`KubeSource`, the follow of
the pool's state subjects (folding what every replica published), and one reconcile
task. Any change on either side marks the state dirty; the reconcile task then
publishes the difference (changes that arrive while it publishes are coalesced into
the next round). A failed publish is logged, counted and retried after a backoff.

High availability is active-active: every replica watches and reconciles, and the
deterministic transition ids of :mod:`gie_ingest.reconciler` make two replicas'
copies of one change a single stored event.
"""

from __future__ import annotations

import asyncio
import contextlib

from prometheus_client import Counter, Gauge

from gie.bus import STATE, Deliver, GieBusError
from gie.events import Event
from gie.events.subjects import pool_prefix
from gie.service import ServiceKit
from gie.view import PoolView
from gie_ingest.kube.backoff import Backoff
from gie_ingest.kube.config import api_client
from gie_ingest.kube.source import KubeSource
from gie_ingest.reconciler import Reconciler
from gie_ingest.settings import IngestSettings

STATE_KINDS = ("endpoint", "objective", "rewrite")


class ReconcileLoop:
    """Publishes the source's desired state whenever either side changed (``dirty``)."""

    def __init__(
        self,
        kit: ServiceKit,
        source: KubeSource,
        reconciler: Reconciler,
        view: PoolView,
        *,
        dirty: asyncio.Event,
    ) -> None:
        self.dirty = dirty
        self.published_once = False
        self._kit = kit
        self._source = source
        self._reconciler = reconciler
        self._view = view
        self._errors = Counter(
            "gie_ingest_publish_errors_total",
            "Reconcile rounds that failed to publish (retried after a backoff).",
            registry=kit.registry,
        )
        self._endpoints = Gauge(
            "gie_ingest_endpoints", "Endpoints published for the pool.", registry=kit.registry
        )

    def on_state(self, event: Event) -> None:
        """Follow handler of the pool's state subjects."""
        if self._reconciler.observe(event):
            self.dirty.set()

    def readiness(self) -> str | None:
        if not self.published_once:
            return "the API server's objects are not listed and published yet"
        return None

    async def run(self, backoff: Backoff) -> None:
        while True:
            await self.dirty.wait()
            self.dirty.clear()
            if not self._source.current:
                continue  # a watcher is (re)listing; it marks dirty when done
            try:
                await self._reconciler.reconcile(
                    self._source.endpoints(),
                    objectives=self._source.objectives(),
                    rewrites=self._source.rewrites(),
                )
            except GieBusError as exc:
                self._errors.inc()
                delay = backoff.next()
                self._kit.log.error("publish failed; retrying", error=str(exc), retry_in_s=delay)
                self.dirty.set()
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            self._endpoints.set(len(self._view))
            self.published_once = True


async def run_kubernetes(settings: IngestSettings, stop: asyncio.Event) -> None:
    api = await api_client(settings.kubeconfig)  # fails fast on a bad kubeconfig
    async with api, ServiceKit("ingest", settings) as kit:
        view = PoolView(settings.pool)
        reconciler = Reconciler(kit.bus, view, source=settings.instance_id)
        dirty = asyncio.Event()
        source = KubeSource(api, settings, registry=kit.registry, on_change=dirty.set)
        loop = ReconcileLoop(kit, source, reconciler, view, dirty=dirty)
        followings = [
            await kit.bus.follow(
                STATE,
                f"{pool_prefix(view.pool)}.{kind}.>",
                loop.on_state,
                deliver=Deliver.LAST_PER_SUBJECT,
            )
            for kind in STATE_KINDS
        ]
        for following in followings:
            await following.caught_up.wait()
        kit.health.add_check("kubernetes", loop.readiness)
        kit.health.add_check("pool", lambda: source.pool_problem)
        async with asyncio.TaskGroup() as group:
            watching = group.create_task(source.run())
            backoff = Backoff(maximum_s=settings.kube_backoff_max_s)
            reconciling = group.create_task(loop.run(backoff))
            await stop.wait()
            for task in (watching, reconciling):
                task.cancel()
        for following in followings:
            with contextlib.suppress(GieBusError):
                await following.stop()
