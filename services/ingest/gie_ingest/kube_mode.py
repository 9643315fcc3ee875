"""Ingest in Kubernetes mode (``GIE_DISCOVERY=kubernetes`` or ``selector``).

Three kinds of task on one loop: the watchers of :class:`KubeSource`, the follow of
the pool's state subjects (folding what every replica published), and one reconcile
task (:class:`ReconcileLoop`), which publishes the difference whenever either side
changed.

High availability is active-active: every replica watches and reconciles, and the
deterministic transition ids of :mod:`gie_ingest.reconciler` make two replicas'
copies of one change a single stored event.
"""

from __future__ import annotations

import asyncio
import contextlib

from gie.bus import STATE, Deliver, GieBusError
from gie.events.subjects import pool_prefix
from gie.lifecycle import cancel_and_wait
from gie.service import ServiceKit
from gie.view import PoolView
from gie_ingest.kube.backoff import Backoff
from gie_ingest.kube.config import api_client
from gie_ingest.kube.source import KubeSource
from gie_ingest.reconcile_loop import ReconcileLoop
from gie_ingest.reconciler import Reconciler
from gie_ingest.settings import IngestSettings

STATE_KINDS = ("endpoint", "objective", "rewrite")


async def run_kubernetes(settings: IngestSettings, stop: asyncio.Event) -> None:
    api = await api_client(settings.kubeconfig)  # fails fast on a bad kubeconfig
    async with api, ServiceKit("ingest", settings) as kit:
        view = PoolView(settings.pool)
        reconciler = Reconciler(kit.bus, view, source=settings.instance_id)
        loop = ReconcileLoop(
            reconciler,
            view,
            registry=kit.registry,
            backoff=Backoff(maximum_s=settings.kube_backoff_max_s),
        )
        source = KubeSource(api, settings, registry=kit.registry, on_change=loop.on_api_change)
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
        kit.started()
        async with asyncio.TaskGroup() as group:
            watching = group.create_task(source.run())
            reconciling = group.create_task(loop.run(source))
            await stop.wait()
            await cancel_and_wait((watching, reconciling))
        for following in followings:
            with contextlib.suppress(GieBusError):
                await following.stop()
