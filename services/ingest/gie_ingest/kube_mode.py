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


async def run_kubernetes(settings: IngestSettings, stop: asyncio.Event) -> None:
    api = await api_client(settings.kubeconfig)  # fails fast on a bad kubeconfig
    async with api, ServiceKit("ingest", settings) as kit:
        dirty = asyncio.Event()
        source = KubeSource(api, settings, registry=kit.registry, on_change=dirty.set)
        view = PoolView(settings.pool)
        reconciler = Reconciler(kit.bus, view, source=settings.instance_id)
        publish_errors = Counter(
            "gie_ingest_publish_errors_total",
            "Reconcile rounds that failed to publish (retried after a backoff).",
            registry=kit.registry,
        )
        endpoints_gauge = Gauge(
            "gie_ingest_endpoints", "Endpoints published for the pool.", registry=kit.registry
        )

        def on_state(event: Event) -> None:
            if reconciler.observe(event):
                dirty.set()

        followings = [
            await kit.bus.follow(
                STATE,
                f"{pool_prefix(view.pool)}.{kind}.>",
                on_state,
                deliver=Deliver.LAST_PER_SUBJECT,
            )
            for kind in STATE_KINDS
        ]
        for following in followings:
            await following.caught_up.wait()

        published_once = False

        def kubernetes_ready() -> str | None:
            if not published_once:
                return "the API server's objects are not listed and published yet"
            return None

        kit.health.add_check("kubernetes", kubernetes_ready)
        kit.health.add_check("pool", lambda: source.pool_problem)

        async def reconcile_forever() -> None:
            nonlocal published_once
            backoff = Backoff(maximum_s=settings.kube_backoff_max_s)
            while True:
                await dirty.wait()
                dirty.clear()
                if not source.current:
                    kit.log.debug("reconcile deferred: a watcher is listing")
                    continue  # a watcher is (re)listing; its handler marks dirty when done
                try:
                    await reconciler.reconcile(
                        source.endpoints(),
                        objectives=source.objectives(),
                        rewrites=source.rewrites(),
                    )
                except GieBusError as exc:
                    publish_errors.inc()
                    delay = backoff.next()
                    kit.log.error("publish failed; retrying", error=str(exc), retry_in_s=delay)
                    dirty.set()
                    await asyncio.sleep(delay)
                    continue
                backoff.reset()
                endpoints_gauge.set(len(view))
                published_once = True

        async with asyncio.TaskGroup() as group:
            watching = group.create_task(source.run())
            reconciling = group.create_task(reconcile_forever())
            await stop.wait()
            for task in (watching, reconciling):
                task.cancel()
        for following in followings:
            with contextlib.suppress(GieBusError):
                await following.stop()
