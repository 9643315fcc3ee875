"""The reconcile loop: rounds started by the API publish freely; rounds started only by
another replica's event that still publish are corrections, counted and paced."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from prometheus_client import CollectorRegistry

from gie.bus import STATE, MemoryEventBus
from gie.events import Endpoint, EndpointUpserted
from gie.view import PoolView
from gie_ingest.kube.backoff import Backoff
from gie_ingest.kube.pool_refs import Rewrite
from gie_ingest.reconcile_loop import ReconcileLoop
from gie_ingest.reconciler import Reconciler

POOL = "ns/pool"
MINE = Endpoint(address="10.0.0.1:80", name="p", labels={"version": "mine"})


class Wanted:
    current = True

    def endpoints(self) -> tuple[Endpoint, ...]:
        return (MINE,)

    def objectives(self) -> Mapping[str, int] | None:
        return None

    def rewrites(self) -> Mapping[str, Rewrite] | None:
        return None


async def settle() -> None:
    await asyncio.sleep(0.1)  # longer than the longest grace period


async def test_a_replica_that_disagrees_is_corrected_with_growing_pauses() -> None:
    bus = MemoryEventBus()
    view = PoolView(POOL)
    registry = CollectorRegistry()
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    loop = ReconcileLoop(
        Reconciler(bus, view, source="ingest-0"),
        view,
        registry=registry,
        backoff=Backoff(jitter=lambda: 1.0),
        grace_s=0.01,
        max_grace_s=0.04,
        sleep=sleep,
    )
    task = asyncio.create_task(loop.run(Wanted()))
    loop.on_api_change()
    await settle()
    assert [e.endpoint for e in bus.stored(STATE) if isinstance(e, EndpointUpserted)] == [MINE]
    assert pauses == []  # the API asked for it: no correction

    theirs = Endpoint(address=MINE.address, name="p", labels={"version": "theirs"})
    graces = []
    for _ in range(3):  # the other replica overwrites, this one corrects, again and again
        loop.on_state(EndpointUpserted(source="ingest-1", pool=POOL, endpoint=theirs))
        await settle()
        graces.append(loop.grace_s)
    assert graces == [0.02, 0.04, 0.04]  # doubling up to the maximum
    assert registry.get_sample_value("gie_ingest_corrections_total") == 3
    assert view.get(MINE.address).endpoint == MINE  # type: ignore[union-attr]

    # The other replica comes round within the grace period: nothing to correct, and
    # the grace period starts over.
    loop.on_state(EndpointUpserted(source="ingest-1", pool=POOL, endpoint=theirs))
    loop.on_state(EndpointUpserted(source="ingest-1", pool=POOL, endpoint=MINE))
    await settle()
    assert registry.get_sample_value("gie_ingest_corrections_total") == 3
    assert loop.grace_s == 0.01
    task.cancel()


async def test_an_api_change_during_the_grace_period_makes_it_an_api_round() -> None:
    bus = MemoryEventBus()
    view = PoolView(POOL)
    registry = CollectorRegistry()
    loop = ReconcileLoop(
        Reconciler(bus, view, source="ingest-0"),
        view,
        registry=registry,
        backoff=Backoff(),
        grace_s=5.0,
    )
    task = asyncio.create_task(loop.run(Wanted()))
    theirs = Endpoint(address=MINE.address, name="p", labels={"version": "theirs"})
    loop.on_state(EndpointUpserted(source="ingest-1", pool=POOL, endpoint=theirs))
    await asyncio.sleep(0.05)
    assert view.get(MINE.address).endpoint == theirs  # type: ignore[union-attr]
    loop.on_api_change()  # this replica's own watch caught up: no waiting out the grace
    await asyncio.sleep(0.05)
    assert view.get(MINE.address).endpoint == MINE  # type: ignore[union-attr]
    assert registry.get_sample_value("gie_ingest_corrections_total") == 0
    task.cancel()
