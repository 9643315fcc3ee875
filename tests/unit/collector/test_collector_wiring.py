"""The collector's parts wired together: endpoints in, owned loops, own events folded,
peers' metrics followed only while there are peers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from collector_fakes import FakeClock, RecordingOutbox
from prometheus_client import CollectorRegistry

from gie.bus import STATE, MemoryEventBus
from gie.events import (
    Endpoint,
    EndpointMetrics,
    EndpointMetricsObserved,
    EndpointRemoved,
    EndpointUpserted,
    Event,
)
from gie.events.subjects import metrics_subject
from gie.saturation import SaturationConfig
from gie_metrics_collector.collector import Collector
from gie_metrics_collector.ha import Ownership, PeerMetricsFeed
from gie_metrics_collector.settings import CollectorSettings

POOL = "ns/pool"
ADDRESSES = [f"127.0.0.1:{port}" for port in range(9, 19)]  # nothing listens there


@pytest.fixture
async def collector(clock: FakeClock, outbox: RecordingOutbox) -> AsyncIterator[Collector]:
    settings = CollectorSettings(pool=POOL, instance_id="me", scrape_backoff_max_s=5.0)
    built = Collector(
        settings,
        saturation=SaturationConfig(),
        outbox=outbox,
        clock=clock,
        registry=CollectorRegistry(),
    )
    yield built
    await built.supervisor.close()


def upsert(address: str) -> EndpointUpserted:
    return EndpointUpserted(source="ingest", pool=POOL, endpoint=Endpoint(address=address))


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_endpoints_are_split_with_peers_and_removed_ones_stop(collector: Collector) -> None:
    for address in ADDRESSES:
        collector.on_event(upsert(address))
    await settle()
    assert collector.supervisor.addresses == sorted(ADDRESSES)

    collector.on_members(frozenset({"me", "peer"}))
    await settle()
    peer = Ownership("peer")
    peer.update({"me", "peer"})
    mine = set(collector.supervisor.addresses)
    theirs = {a for a in ADDRESSES if peer.owns(a)}
    assert mine and theirs and not mine & theirs and mine | theirs == set(ADDRESSES)

    for address in mine:
        collector.on_event(EndpointRemoved(source="ingest", pool=POOL, address=address))
    await settle()
    assert collector.supervisor.addresses == []


async def test_published_metrics_are_folded_into_the_pool_view_without_the_bus(
    collector: Collector, clock: FakeClock, outbox: RecordingOutbox
) -> None:
    collector.on_event(upsert(ADDRESSES[0]))
    metrics = EndpointMetrics(waiting_queue_size=4, running_requests=1, kv_cache_usage=0.2)
    collector.publisher.observe(ADDRESSES[0], metrics, scraped_at=clock.now())
    state = collector.monitor.view.get(ADDRESSES[0])
    assert state is not None and state.metrics == metrics
    assert [type(e) for e in outbox.events] == [EndpointMetricsObserved]


async def test_peers_metrics_are_followed_only_while_there_are_peers() -> None:
    bus = MemoryEventBus()
    seen: list[Event] = []
    feed = PeerMetricsFeed(bus, pool=POOL, handler=seen.append)
    metrics = EndpointMetrics(waiting_queue_size=1, running_requests=0, kv_cache_usage=0.0)

    async def peer_publishes(waiting: int) -> None:
        event = EndpointMetricsObserved(
            source="peer",
            pool=POOL,
            address=ADDRESSES[0],
            scraped_at=FakeClock().now(),
            metrics=metrics.model_copy(update={"waiting_queue_size": waiting}),
        )
        await bus.publish(metrics_subject(POOL, ADDRESSES[0]), event)
        await settle()

    feed.want_for(frozenset({"me"}))
    await peer_publishes(1)
    assert not feed.active and seen == []

    feed.want_for(frozenset({"me", "peer"}))
    for _ in range(20):
        if feed.active:
            break
        await asyncio.sleep(0.01)
    await settle()
    assert len(seen) == 1  # the latest value, replayed on joining
    await peer_publishes(2)
    assert len(seen) == 2

    feed.want_for(frozenset({"me"}))
    await feed.close()
    await peer_publishes(3)
    assert not feed.active and len(seen) == 2
    assert len(bus.stored(STATE)) == 3
    await bus.close()
