"""The room a dispatch is given is checked pool-wide, on the in-memory model and on Redis.

Requests dispatched at or after the room's ``since_ms`` and still in flight use it up,
whichever replica (shard owner) dispatched them; a completed request gives its slot
back; a refused dispatch leaves the request queued with no outcome.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from gie.flowcontrol import FlowKey
from gie_flow_controller.model import DispatchStatus, Limits, Room, Ticket, TokenWeights
from gie_flow_controller.state import FlowStore, MemoryFlowStore, RedisFlowStore, StoreSettings

pytestmark = pytest.mark.integration

OPEN = Limits(band_max_bytes=10**9, band_max_requests=10**6)
WEIGHTS = TokenWeights(1.0, 2.0)
SETTINGS = StoreSettings(flow_idle_ms=60_000, outcome_keep_ms=60_000, inflight_ttl_ms=60_000)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[FlowStore]:
    if request.param == "memory":
        yield MemoryFlowStore(SETTINGS)
        return
    client = Redis.from_url(redis_url)
    try:
        yield RedisFlowStore(client, f"test/{uuid.uuid4().hex[:12]}", settings=SETTINGS)
    finally:
        await client.aclose()


async def queue(store: FlowStore, rids: list[str], tenant: str, *, shards: int, t: int) -> int:
    shard = -1
    for rid in rids:
        shard = (
            await store.admit(Ticket(rid, FlowKey(tenant, 0)), OPEN, shards=shards, now_ms=t)
        ).shard
    return shard


async def test_dispatches_since_the_scrape_use_the_room_up(store: FlowStore) -> None:
    t = time.time_ns() // 1_000_000
    await queue(store, ["early", "r1", "r2", "r3", "r4"], "a", shards=1, t=t)
    assert await store.claim(0, "fc-a", ttl_ms=60_000, now_ms=t)

    async def dispatch(rid: str, at: int, room: Room | None) -> DispatchStatus:
        return (await store.dispatch(0, "fc-a", rid, WEIGHTS, now_ms=at, room=room)).status

    assert await dispatch("early", t + 5, None) is DispatchStatus.DISPATCHED  # before the scrape
    room = Room(2, since_ms=t + 10)
    assert await dispatch("r1", t + 10, room) is DispatchStatus.DISPATCHED
    assert await dispatch("r2", t + 11, room) is DispatchStatus.DISPATCHED
    assert await dispatch("r3", t + 12, room) is DispatchStatus.NO_ROOM
    assert await store.outcomes(["r3"]) == {}  # still queued, no outcome
    snapshot = await store.snapshot(0, window=10)
    assert snapshot.band is not None
    assert [r.request_id for f in snapshot.band.flows for r in f.head] == ["r3", "r4"]
    # A newer scrape: only what was dispatched after it counts.
    assert await dispatch("r3", t + 13, Room(2, since_ms=t + 11)) is DispatchStatus.DISPATCHED
    assert await dispatch("r4", t + 14, Room(2, since_ms=t + 11)) is DispatchStatus.NO_ROOM
    # A completed request no longer holds its slot.
    assert await store.complete("r2", input_tokens=1, output_tokens=1, now_ms=t + 15)
    assert await dispatch("r4", t + 16, Room(2, since_ms=t + 11)) is DispatchStatus.DISPATCHED


async def test_another_replicas_dispatches_count_too(store: FlowStore) -> None:
    t = time.time_ns() // 1_000_000
    shard_a = await queue(store, ["a1", "a2"], "a", shards=2, t=t)
    shard_b = await queue(store, ["b1", "b2"], "b", shards=2, t=t)
    assert shard_a != shard_b
    assert await store.claim(shard_a, "fc-a", ttl_ms=60_000, now_ms=t)
    assert await store.claim(shard_b, "fc-b", ttl_ms=60_000, now_ms=t)
    room = Room(1, since_ms=t)  # both replicas read the same metrics
    first = await store.dispatch(shard_a, "fc-a", "a1", WEIGHTS, now_ms=t + 1, room=room)
    second = await store.dispatch(shard_b, "fc-b", "b1", WEIGHTS, now_ms=t + 1, room=room)
    assert (first.status, second.status) == (DispatchStatus.DISPATCHED, DispatchStatus.NO_ROOM)


@pytest.mark.parametrize(
    "room",
    [pytest.param(None, id="no-room-given"), pytest.param(Room.unlimited(), id="unlimited")],
)
async def test_without_a_limit_nothing_is_refused(store: FlowStore, room: Room | None) -> None:
    t = time.time_ns() // 1_000_000
    await queue(store, [f"r{n}" for n in range(5)], "a", shards=1, t=t)
    assert await store.claim(0, "fc-a", ttl_ms=60_000, now_ms=t)
    statuses = [
        (await store.dispatch(0, "fc-a", f"r{n}", WEIGHTS, now_ms=t + 1, room=room)).status
        for n in range(5)
    ]
    assert statuses == [DispatchStatus.DISPATCHED] * 5
