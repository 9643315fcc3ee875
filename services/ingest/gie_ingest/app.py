"""Wiring of the ingest service: pool file or Kubernetes → pool state events.

``GIE_DISCOVERY=file``: one task reconciles at start, then polls the file for
changes. A file that becomes invalid is logged and counted; the last good endpoint
set stays published (nothing is removed because of a typo). The Kubernetes modes
are wired in :mod:`gie_ingest.kube_mode`.
"""

from __future__ import annotations

import asyncio
import contextlib

from prometheus_client import Counter, Gauge

from gie.bus import STATE, Deliver
from gie.events.subjects import pool_prefix
from gie.service import ServiceKit
from gie.view import PoolView
from gie_ingest.kube_mode import run_kubernetes
from gie_ingest.pool_file import PoolFile, PoolFileError, load_pool_file
from gie_ingest.reconciler import Reconciler
from gie_ingest.settings import IngestSettings


def _objectives(pool_file: PoolFile) -> dict[str, int]:
    return {objective.name: objective.priority for objective in pool_file.objectives}


async def run(settings: IngestSettings, stop: asyncio.Event) -> None:
    if settings.discovery != "file":
        await run_kubernetes(settings, stop)
        return
    await run_file(settings, stop)


async def run_file(settings: IngestSettings, stop: asyncio.Event) -> None:
    assert settings.pool_file is not None  # required in file mode (settings check it)
    pool_file, revision = load_pool_file(settings.pool_file)  # fail fast on a bad file
    if pool_file.pool != settings.pool:
        raise SystemExit(
            f"pool file {settings.pool_file} is for pool {pool_file.pool!r} "
            f"but GIE_POOL is {settings.pool!r}"
        )
    async with ServiceKit("ingest", settings) as kit:
        errors = Counter(
            "gie_ingest_pool_file_errors_total",
            "Times the pool file could not be loaded.",
            registry=kit.registry,
        )
        endpoints_gauge = Gauge(
            "gie_ingest_endpoints", "Endpoints in the pool file.", registry=kit.registry
        )
        view = PoolView(pool_file.pool)
        reconciler = Reconciler(kit.bus, view, source=settings.instance_id)
        followings = [
            await kit.bus.follow(
                STATE,
                f"{pool_prefix(view.pool)}.{kind}.>",
                reconciler.observe,
                deliver=Deliver.LAST_PER_SUBJECT,
            )
            for kind in ("endpoint", "objective")
        ]
        for following in followings:
            await following.caught_up.wait()
        await reconciler.reconcile(pool_file.endpoints, objectives=_objectives(pool_file))
        endpoints_gauge.set(len(pool_file.endpoints))
        synced = True
        kit.health.add_check("pool-file", lambda: None if synced else "not yet published")
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.pool_file_poll_s)
            if stop.is_set():
                break
            try:
                new_file, new_revision = load_pool_file(settings.pool_file)
            except PoolFileError as exc:
                errors.inc()
                kit.log.error("pool file invalid; keeping last good endpoints", error=str(exc))
                continue
            if new_revision == revision:
                continue
            if new_file.pool != view.pool:
                errors.inc()
                kit.log.error("pool file names another pool; ignored", pool=new_file.pool)
                continue
            await reconciler.reconcile(new_file.endpoints, objectives=_objectives(new_file))
            endpoints_gauge.set(len(new_file.endpoints))
            revision = new_revision
