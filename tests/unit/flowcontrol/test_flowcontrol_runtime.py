"""Shard workers, the supervisor, the admitter and the capacity gate, on the in-memory
flow state with a hand-driven clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from gie.bus import EVENTS, BackgroundPublisher, BusMetrics, MemoryEventBus
from gie.clock import ManualClock
from gie.events import (
    Endpoint,
    EndpointMetrics,
    EndpointMetricsObserved,
    EndpointUpserted,
    RequestDispatched,
    RequestEvicted,
)
from gie.flowcontrol import AdmitRequest, FlowControlConfig, FlowKey, Outcome
from gie.saturation import SaturationConfig
from gie.view import PoolView
from gie_flow_controller.admission import Admitter, OutcomeWaiters
from gie_flow_controller.errors import DrainingError, LeaseLostError
from gie_flow_controller.gate import CapacityGate, OpenGate
from gie_flow_controller.model import BandTable, Limits, Room, Ticket
from gie_flow_controller.policies import PolicySet, builtin_policies
from gie_flow_controller.sharding import ShardSupervisor, ShardWorker
from gie_flow_controller.state import MemoryFlowStore
from gie_flow_controller.telemetry import FlowControlMetrics, FlowEvents

POOL = "ns/pool"
OPEN = Limits(10**9, 10**6)


@dataclass
class SomeCapacity:
    """A gate where only the listed endpoints have capacity."""

    allowed: set[str] = field(default_factory=set)

    def room(self, candidates: tuple[str, ...]) -> Room | None:
        return Room.unlimited() if self.allowed & set(candidates) else None


@dataclass
class Rig:
    store: MemoryFlowStore
    clock: ManualClock
    bus: MemoryEventBus
    publisher: BackgroundPublisher
    events: FlowEvents
    bands: BandTable
    policies: PolicySet

    def worker(self, shard: int = 0, owner: str = "me", gate: object = None) -> ShardWorker:
        return ShardWorker(
            shard,
            owner=owner,
            store=self.store,
            bands=self.bands,
            policies=self.policies,
            gate=gate or OpenGate(),  # type: ignore[arg-type]
            events=self.events,
            clock=self.clock,
            tick_s=0.01,
        )

    async def published(self) -> list[object]:
        await self.publisher.close()
        self.publisher.start()
        return list(self.bus.stored(EVENTS))


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    config = FlowControlConfig.model_validate({"shardCount": 4, "defaultRequestTTL": "2s"})
    bus = MemoryEventBus()
    publisher = BackgroundPublisher(bus, metrics=BusMetrics(CollectorRegistry()), concurrency=1)
    publisher.start()
    bands = BandTable(config)
    yield Rig(
        MemoryFlowStore(),
        ManualClock(1_800_000_000_000),
        bus,
        publisher,
        FlowEvents(
            publisher, pool=POOL, source="me", metrics=FlowControlMetrics(CollectorRegistry())
        ),
        bands,
        PolicySet(bands, builtin_policies()),
    )
    await publisher.close()


async def admit(rig: Rig, rid: str, *candidates: str, expires_ms: int = 0) -> None:
    ticket = Ticket(rid, FlowKey("t", 0), candidates=candidates, expires_ms=expires_ms)
    await rig.store.admit(ticket, OPEN, shards=1, now_ms=rig.clock.now_ms())


async def test_a_worker_dispatches_in_order_and_publishes_each_dispatch(rig: Rig) -> None:
    assert await rig.store.claim(0, "me", ttl_ms=10_000, now_ms=rig.clock.now_ms())
    for rid in ("r1", "r2", "r3"):
        await admit(rig, rid)
    assert await rig.worker().pass_once() == 3
    dispatched = [e for e in await rig.published() if isinstance(e, RequestDispatched)]
    assert [e.request_id for e in dispatched] == ["r1", "r2", "r3"]


async def test_head_of_line_a_request_without_capacity_holds_the_band(rig: Rig) -> None:
    assert await rig.store.claim(0, "me", ttl_ms=10_000, now_ms=rig.clock.now_ms())
    await admit(rig, "first", "10.0.0.1:80")
    await admit(rig, "second", "10.0.0.2:80")
    gate = SomeCapacity({"10.0.0.2:80"})
    worker = rig.worker(gate=gate)
    assert await worker.pass_once() == 0
    gate.allowed.add("10.0.0.1:80")
    assert await worker.pass_once() == 2


async def test_a_worker_evicts_expired_requests_on_its_sweep(rig: Rig) -> None:
    assert await rig.store.claim(0, "me", ttl_ms=10_000, now_ms=rig.clock.now_ms())
    await admit(rig, "old", "10.0.0.1:80", expires_ms=rig.clock.now_ms() + 500)
    worker = rig.worker(gate=SomeCapacity())
    await worker.pass_once()
    rig.clock.advance(0.6)
    await worker.pass_once()
    (evicted,) = [e for e in await rig.published() if isinstance(e, RequestEvicted)]
    assert (evicted.request_id, evicted.reason, evicted.outcome) == ("old", "ttl", "EvictedTTL")


async def test_a_worker_without_the_lease_stops(rig: Rig) -> None:
    await admit(rig, "r1")
    with pytest.raises(LeaseLostError):
        await rig.worker().pass_once()
    assert await asyncio.wait_for(rig.worker().run(), 2) is None  # run() returns


async def test_supervisors_split_the_shards_and_take_over_a_silent_replica(rig: Rig) -> None:
    def supervisor(owner: str) -> ShardSupervisor:
        return ShardSupervisor(
            store=rig.store,
            shards=4,
            owner=owner,
            make_worker=lambda shard: rig.worker(shard, owner),
            clock=rig.clock,
            lease_s=3.0,
        )

    a, b = supervisor("a"), supervisor("b")
    await a.reconcile()
    assert a.owned == [0, 1, 2, 3]  # alone: every shard
    await b.reconcile()  # b is seen; nothing is free yet
    await a.reconcile()  # a keeps its share and releases the rest
    await b.reconcile()
    assert len(a.owned) == len(b.owned) == 2
    assert sorted(a.owned + b.owned) == [0, 1, 2, 3]
    rig.clock.advance(3.5)  # a stops renewing: its leases and membership expire
    await b.reconcile()
    assert b.owned == [0, 1, 2, 3]
    await a.stop(release=False)
    await b.stop()
    assert rig.store.state.leases.shards == {}


async def test_admit_waits_for_the_outcome_decided_elsewhere(rig: Rig) -> None:
    waiters = OutcomeWaiters(rig.store, poll_s=0.05)
    woken: list[int] = []
    queued = asyncio.Event()

    def wake(shard: int) -> None:
        woken.append(shard)
        queued.set()

    admitter = Admitter(
        store=rig.store,
        config=rig.bands.config,
        bands=rig.bands,
        waiters=waiters,
        events=rig.events,
        metrics=FlowControlMetrics(CollectorRegistry()),
        clock=rig.clock,
        replica="me",
        wake=wake,
    )
    notices = asyncio.create_task(rig.store.run(waiters.deliver, wake))
    await asyncio.sleep(0)
    try:
        call = asyncio.create_task(admitter.admit(AdmitRequest("r1", FlowKey("t", 0))))
        await asyncio.wait_for(queued.wait(), 2)
        shard = woken[0]
        assert await rig.store.claim(shard, "other", ttl_ms=10_000, now_ms=rig.clock.now_ms())
        assert await rig.worker(shard, "other").pass_once() == 1  # another replica's worker
        result = await asyncio.wait_for(call, 2)
        assert (result.outcome, result.served_by) == (Outcome.DISPATCHED, "me")

        cancelled = asyncio.create_task(admitter.admit(AdmitRequest("r2", FlowKey("t", 0))))
        await asyncio.sleep(0.05)
        cancelled.cancel()
        await asyncio.gather(cancelled, return_exceptions=True)
        assert (await rig.store.outcomes(["r2"]))["r2"].outcome is Outcome.CANCELLED

        drained = asyncio.create_task(admitter.admit(AdmitRequest("r3", FlowKey("t", 0))))
        await asyncio.sleep(0.05)
        admitter.drain()
        with pytest.raises(DrainingError):
            await drained
        assert await rig.store.outcomes(["r3"]) == {}  # still queued for another replica
        assert len(waiters) == 0
    finally:
        notices.cancel()


def test_the_ttl_is_the_objectives_and_bounded_by_the_deadline(rig: Rig) -> None:
    config = FlowControlConfig.model_validate(
        {"defaultRequestTTL": "10s", "objectiveRequestTTLs": {"batch": "0s", "chat": "1s"}}
    )
    admitter = Admitter(
        store=rig.store,
        config=config,
        bands=BandTable(config),
        waiters=OutcomeWaiters(rig.store),
        events=rig.events,
        metrics=FlowControlMetrics(CollectorRegistry()),
        clock=rig.clock,
        replica="me",
        wake=lambda shard: None,
    )
    now = rig.clock.now_ms()
    deadline = datetime.fromtimestamp((now + 5_000) / 1000, UTC)

    def expiry(objective: str, deadline: datetime | None = None, call_ms: int | None = None) -> int:
        request = AdmitRequest("r", FlowKey("t", 0), objective=objective, deadline=deadline)
        return admitter.ticket(request, deadline_ms=call_ms, now_ms=now).expires_ms

    assert expiry("") == now + 10_000
    assert expiry("chat") == now + 1_000
    assert expiry("batch") == 0  # no TTL: waits until dispatched or cancelled
    assert expiry("batch", deadline=deadline) == now + 5_000
    assert expiry("", deadline=deadline) == now + 5_000
    assert expiry("", deadline=deadline, call_ms=now + 300) == now + 300  # the gRPC deadline


def test_the_gate_applies_the_saturation_rule_to_the_candidates() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    view = PoolView(POOL)
    for address, waiting, kv, age in [
        ("10.0.0.1:80", 0, 0.1, 0.05),  # room for 2 (threshold 1)
        ("10.0.0.2:80", 5, 0.1, 0.05),  # queue over the threshold
        ("10.0.0.3:80", 0, 0.1, 5.0),  # stale
    ]:
        view.apply(EndpointUpserted(source="t", pool=POOL, endpoint=Endpoint(address=address)))
        view.apply(
            EndpointMetricsObserved(
                source="t",
                pool=POOL,
                address=address,
                scraped_at=now - timedelta(seconds=age),
                metrics=EndpointMetrics(
                    waiting_queue_size=waiting, running_requests=0, kv_cache_usage=kv
                ),
            )
        )
    config = SaturationConfig(queue_depth_threshold=1, metrics_staleness_s=0.2)
    gate = CapacityGate(view, config, now=lambda: now)
    assert gate.room(("10.0.0.2:80", "10.0.0.3:80", "10.9.9.9:80")) is None
    scraped_ms = round((now - timedelta(seconds=0.05)).timestamp() * 1000)
    assert gate.room(("10.0.0.1:80",)) == Room(2, since_ms=scraped_ms)
    assert gate.room(()) == Room(2, since_ms=scraped_ms)  # no candidates: the whole pool
