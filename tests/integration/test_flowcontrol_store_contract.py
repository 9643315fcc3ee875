"""The flow-state contract, run against the in-memory model and the Redis/Lua adapter.

The same table of scenarios runs on both stores; then random programs run on both side
by side and every answer must be identical, so the Lua scripts do exactly what the
model the property tests check does.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from gie.flowcontrol import FlowKey, Outcome
from gie.security import FLOW_CONTROLLER_REDIS
from gie_flow_controller.errors import LayoutChangedError
from gie_flow_controller.model import (
    AdmitStatus,
    DispatchStatus,
    Limits,
    Room,
    Ticket,
    TokenWeights,
)
from gie_flow_controller.state import FlowStore, MemoryFlowStore, RedisFlowStore, StoreSettings
from gie_flow_controller.state.shard_choice import home_shard
from tests.support.secure_servers import SecureRedis

pytestmark = pytest.mark.integration

OPEN = Limits(band_max_bytes=10**9, band_max_requests=10**6)
WEIGHTS = TokenWeights(1.0, 2.0)
ME = "replica-a"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def store_settings() -> StoreSettings:
    return StoreSettings(flow_idle_ms=60_000, outcome_keep_ms=60_000, inflight_ttl_ms=60_000)


@pytest.fixture(params=["memory", "redis", "redis-acl-tls"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[FlowStore]:
    if request.param == "memory":
        yield MemoryFlowStore(store_settings())
        return
    if request.param == "redis":
        client = Redis.from_url(request.getfixturevalue("redis_url"))
    else:  # as the flow-controller's ACL user, over TLS: its ACL covers every script
        secure: SecureRedis = request.getfixturevalue("secure_redis_server")
        client = Redis.from_url(secure.server.url, **secure.options(FLOW_CONTROLLER_REDIS.user))
    try:
        yield RedisFlowStore(client, f"test/{uuid.uuid4().hex[:12]}", settings=store_settings())
    finally:
        await client.aclose()


def ticket(rid: str, tenant: str = "a", priority: int = 0, **fields: int) -> Ticket:
    return Ticket(rid, FlowKey(tenant, priority), **fields)  # type: ignore[arg-type]


async def test_admission_queues_once_and_remembers(store: FlowStore) -> None:
    t = now_ms()
    first = await store.admit(ticket("r1", byte_size=10), OPEN, shards=2, now_ms=t)
    assert first.status is AdmitStatus.QUEUED and first.enqueued_ms == t
    again = await store.admit(ticket("r1", byte_size=10), OPEN, shards=2, now_ms=t + 5)
    assert again.status is AdmitStatus.EXISTING
    assert (again.shard, again.enqueued_ms, again.finished) == (first.shard, t, None)
    snapshot = await store.snapshot(first.shard, window=4)
    assert snapshot.band is not None and snapshot.pool_top_priority == 0
    assert [r.request_id for f in snapshot.band.flows for r in f.head] == ["r1"]


async def test_unknown_names_only_requests_the_state_has_no_record_of(store: FlowStore) -> None:
    t = now_ms()
    await store.admit(ticket("queued", byte_size=10), OPEN, shards=1, now_ms=t)
    await store.admit(ticket("finished", byte_size=10), OPEN, shards=1, now_ms=t)
    assert await store.cancel("finished", now_ms=t + 1) is not None
    ids = ["queued", "finished", "never-seen"]
    assert await store.unknown(ids) == {"never-seen"}  # queued or finished: known
    assert await store.unknown([]) == set()


async def test_new_flows_join_the_shard_with_fewest_bytes_and_flows_stay_put(
    store: FlowStore,
) -> None:
    t = now_ms()
    heavy = await store.admit(ticket("h", "a", byte_size=500), OPEN, shards=2, now_ms=t)
    assert heavy.shard == home_shard("a", 2)
    # Whatever its home shard, a new flow avoids the loaded one.
    light = await store.admit(ticket("l", "b", byte_size=1), OPEN, shards=2, now_ms=t)
    assert light.shard == 1 - heavy.shard
    # A flow with queued work keeps its shard (FCFS within the flow), however loaded.
    more = await store.admit(ticket("h2", "a", byte_size=500), OPEN, shards=2, now_ms=t)
    assert more.shard == heavy.shard


@pytest.mark.parametrize(
    ("limits", "sizes", "reason"),
    [
        (Limits(100, 10), [60, 50], "band-bytes"),
        (Limits(10**6, 1), [1, 1], "band-requests"),
        (Limits(10**6, 10, pool_max_bytes=100), [60, 50], "pool-bytes"),
        (Limits(10**6, 10, pool_max_requests=1), [1, 1], "pool-requests"),
    ],
    ids=["band-bytes", "band-requests", "pool-bytes", "pool-requests"],
)
async def test_capacity_limits_reject_and_the_rejection_is_remembered(
    store: FlowStore, limits: Limits, sizes: list[int], reason: str
) -> None:
    t = now_ms()
    assert (
        await store.admit(ticket("r1", byte_size=sizes[0]), limits, shards=1, now_ms=t)
    ).status is AdmitStatus.QUEUED
    second = await store.admit(ticket("r2", byte_size=sizes[1]), limits, shards=1, now_ms=t)
    assert second.status is AdmitStatus.REJECTED
    assert second.finished is not None
    assert (second.finished.outcome, second.finished.reason) == (Outcome.REJECTED_CAPACITY, reason)
    again = await store.admit(ticket("r2", byte_size=1), OPEN, shards=1, now_ms=t)
    assert again.status is AdmitStatus.EXISTING and again.finished == second.finished


async def test_pool_limits_displace_the_newest_work_of_the_lowest_band(store: FlowStore) -> None:
    t = now_ms()
    limits = Limits(10**6, 10, pool_max_requests=3)
    for rid, prio, at in [("low-old", -1, t), ("low-new", -1, t + 1), ("mid", 0, t + 2)]:
        await store.admit(ticket(rid, "x", prio), limits, shards=1, now_ms=at)
    high = await store.admit(ticket("high", "y", 5), limits, shards=1, now_ms=t + 3)
    assert high.status is AdmitStatus.QUEUED
    assert [(d.request_id, d.outcome, d.reason) for d in high.displaced] == [
        ("low-new", Outcome.REJECTED_CAPACITY, "displaced")
    ]
    # Nothing lower than -1 to displace: refused.
    lowest = await store.admit(ticket("lowest", "z", -1), limits, shards=1, now_ms=t + 4)
    assert lowest.status is AdmitStatus.REJECTED
    outcomes = await store.outcomes(["low-old", "low-new", "mid", "high", "lowest"])
    assert sorted(outcomes) == ["low-new", "lowest"]


async def test_dispatch_is_fenced_by_the_shard_lease(store: FlowStore) -> None:
    t = now_ms()
    queued = await store.admit(
        ticket("r1", input_tokens=3, output_tokens=4), OPEN, shards=1, now_ms=t
    )
    assert queued.shard == 0
    refused = await store.dispatch(0, ME, "r1", WEIGHTS, now_ms=t)
    assert refused.status is DispatchStatus.NOT_OWNER
    assert await store.claim(0, ME, ttl_ms=10_000, now_ms=t)
    assert not await store.claim(0, "replica-b", ttl_ms=10_000, now_ms=t)
    done = await store.dispatch(0, ME, "r1", WEIGHTS, now_ms=t + 7)
    assert done.status is DispatchStatus.DISPATCHED and done.charge == 11.0
    assert done.finished is not None and done.finished.queued_s == 0.007
    assert (await store.dispatch(0, ME, "r1", WEIGHTS, now_ms=t + 8)).status is DispatchStatus.GONE
    assert await store.release(0, ME)
    assert await store.claim(0, "replica-b", ttl_ms=10_000, now_ms=t)


async def test_a_higher_band_anywhere_blocks_lower_bands(store: FlowStore) -> None:
    t = now_ms()
    low = await store.admit(ticket("low", "a", 0), OPEN, shards=2, now_ms=t)
    tenant = "b" if home_shard("b", 2) != low.shard else "c"
    high = await store.admit(ticket("high", tenant, 7), OPEN, shards=2, now_ms=t)
    assert high.shard != low.shard
    for shard in (0, 1):
        assert await store.claim(shard, ME, ttl_ms=10_000, now_ms=t)
    snapshot = await store.snapshot(low.shard, window=1)
    assert snapshot.blocked_by_higher_band
    blocked = await store.dispatch(low.shard, ME, "low", WEIGHTS, now_ms=t)
    assert blocked.status is DispatchStatus.BLOCKED
    assert (
        await store.dispatch(high.shard, ME, "high", WEIGHTS, now_ms=t)
    ).status is DispatchStatus.DISPATCHED
    assert (
        await store.dispatch(low.shard, ME, "low", WEIGHTS, now_ms=t)
    ).status is DispatchStatus.DISPATCHED


async def test_ttl_eviction_and_cancellation_finish_queued_requests_once(
    store: FlowStore,
) -> None:
    t = now_ms()
    await store.admit(ticket("short", expires_ms=t + 100), OPEN, shards=1, now_ms=t)
    await store.admit(ticket("long", expires_ms=t + 10_000), OPEN, shards=1, now_ms=t)
    await store.admit(ticket("forever"), OPEN, shards=1, now_ms=t)
    assert await store.expire(0, now_ms=t + 99) == []
    evicted = await store.expire(0, now_ms=t + 100)
    assert [(e.request_id, e.outcome, e.reason) for e in evicted] == [
        ("short", Outcome.EVICTED_TTL, "ttl")
    ]
    cancelled = await store.cancel("forever", now_ms=t + 200)
    assert cancelled is not None and cancelled.outcome is Outcome.CANCELLED
    assert await store.cancel("forever", now_ms=t + 300) is None
    assert await store.cancel("short", now_ms=t + 300) is None
    snapshot = await store.snapshot(0, window=5)
    assert snapshot.band is not None
    assert [r.request_id for f in snapshot.band.flows for r in f.head] == ["long"]


async def test_counters_charge_estimates_and_completions_correct_them(store: FlowStore) -> None:
    t = now_ms()
    assert await store.claim(0, ME, ttl_ms=10_000, now_ms=t)
    for rid in ("r1", "r2"):
        await store.admit(ticket(rid, input_tokens=10, output_tokens=10), OPEN, shards=1, now_ms=t)
    await store.dispatch(0, ME, "r1", WEIGHTS, now_ms=t)
    snapshot = await store.snapshot(0, window=1)
    assert snapshot.band is not None and snapshot.band.flows[0].counter == 30.0
    assert snapshot.band.cursor == "a"
    assert await store.complete("r1", input_tokens=None, output_tokens=40, now_ms=t)
    assert not await store.complete("r1", input_tokens=None, output_tokens=40, now_ms=t)
    snapshot = await store.snapshot(0, window=1)
    assert snapshot.band is not None and snapshot.band.flows[0].counter == 90.0
    # A flow joining the band is lifted to the smallest backlogged counter.
    await store.admit(ticket("b1", "b"), OPEN, shards=1, now_ms=t)
    snapshot = await store.snapshot(0, window=1)
    assert snapshot.band is not None
    assert {f.fairness_id: f.counter for f in snapshot.band.flows} == {"a": 90.0, "b": 90.0}


async def test_idle_flows_are_collected_and_busy_ones_are_not(store: FlowStore) -> None:
    t = now_ms()
    assert await store.claim(0, ME, ttl_ms=10_000, now_ms=t)
    await store.admit(ticket("done", "idle"), OPEN, shards=1, now_ms=t)
    await store.admit(ticket("waiting", "busy"), OPEN, shards=1, now_ms=t)
    await store.admit(ticket("running", "inflight"), OPEN, shards=1, now_ms=t)
    await store.cancel("done", now_ms=t)
    await store.dispatch(0, ME, "running", WEIGHTS, now_ms=t)
    assert await store.flow_count() == 3
    assert (await store.collect(now_ms=t + 59_000)).flows_collected == 0
    collected = await store.collect(now_ms=t + 60_000)
    assert collected.flows_collected == 1
    assert await store.flow_count() == 2
    # The completed in-flight request frees its flow in turn.
    await store.complete("running", input_tokens=1, output_tokens=1, now_ms=t + 60_000)
    assert (await store.collect(now_ms=t + 120_000)).flows_collected == 1
    assert await store.flow_count() == 1


async def test_stale_in_flight_requests_are_dropped(store: FlowStore) -> None:
    t = now_ms()
    assert await store.claim(0, ME, ttl_ms=10_000, now_ms=t)
    await store.admit(ticket("lost"), OPEN, shards=1, now_ms=t)
    await store.dispatch(0, ME, "lost", WEIGHTS, now_ms=t)
    assert (await store.collect(now_ms=t + 60_000)).inflight_expired == 0
    assert (await store.collect(now_ms=t + 60_001)).inflight_expired == 1
    assert not await store.complete("lost", input_tokens=1, output_tokens=1, now_ms=t + 60_002)


async def test_membership_counts_live_replicas(store: FlowStore) -> None:
    t = now_ms()
    assert await store.heartbeat("a", ttl_ms=1_000, now_ms=t) == 1
    assert await store.heartbeat("b", ttl_ms=1_000, now_ms=t) == 2
    assert await store.heartbeat("a", ttl_ms=1_000, now_ms=t + 1_500) == 1
    assert await store.renew(3, "a", ttl_ms=1_000, now_ms=t) is False


# -- the Lua scripts agree with the model on random programs --------------------------

ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("admit"),
            st.sampled_from(["a", "b", "c", "ü"]),
            st.sampled_from([-2, 0, 4]),
            st.integers(0, 30),
            st.integers(0, 20),
            st.sampled_from([0, 0, 40]),
            st.integers(1, 4),
        ),
        st.tuples(
            st.just("dispatch"),
            st.integers(0, 2),
            st.integers(0, 3),
            st.sampled_from([-1, 0, 1, 3]),  # room slots (-1: no room given)
            st.integers(0, 120),  # the room's scrape, this long ago
        ),
        st.tuples(st.just("tick"), st.integers(1, 60)),
        st.tuples(st.just("cancel"), st.integers(0, 100)),
        st.tuples(st.just("complete"), st.integers(0, 100), st.integers(-1, 30)),
        st.tuples(st.just("collect")),
    ),
    min_size=5,
    max_size=40,
)


async def _run_program(program: list[tuple[object, ...]], redis_url: str) -> None:
    shards = 3
    limits = Limits(80, 5, pool_max_bytes=120, pool_max_requests=7)
    memory = MemoryFlowStore(store_settings())
    client = Redis.from_url(redis_url)
    redis = RedisFlowStore(client, f"prop/{uuid.uuid4().hex[:12]}", settings=store_settings())
    stores: tuple[FlowStore, FlowStore] = (memory, redis)
    t = now_ms()
    ids: list[str] = []
    try:
        for shard in range(shards):
            for s in stores:
                assert await s.claim(shard, ME, ttl_ms=60_000, now_ms=t)
        for step, op in enumerate(program):
            kind = op[0]
            if kind == "admit":
                _, tenant, prio, size, tokens, ttl, count = op
                for index in range(int(count)):  # type: ignore[call-overload]
                    rid = f"r{step}.{index}"
                    ids.append(rid)
                    tk = Ticket(
                        rid,
                        FlowKey(str(tenant), int(prio)),
                        int(size),
                        int(tokens),
                        1,
                        t + int(ttl) if ttl else 0,
                    )  # type: ignore[call-overload]
                    answers = [await s.admit(tk, limits, shards=shards, now_ms=t) for s in stores]
                    assert answers[0] == answers[1], (op, answers)
            elif kind == "dispatch":
                _, shard, pick, slots, back = op
                room = None if int(slots) < 0 else Room(int(slots), since_ms=t - int(back))  # type: ignore[call-overload]
                snaps = [await s.snapshot(int(shard), window=3) for s in stores]  # type: ignore[call-overload]
                assert snaps[0] == snaps[1], (op, snaps)
                heads = [r for f in (snaps[0].band.flows if snaps[0].band else ()) for r in f.head]
                if heads:
                    rid = heads[int(pick) % len(heads)].request_id  # type: ignore[call-overload]
                    results = [
                        await s.dispatch(int(shard), ME, rid, WEIGHTS, now_ms=t, room=room)
                        for s in stores
                    ]  # type: ignore[call-overload]
                    assert results[0] == results[1], (op, results)
            elif kind == "tick":
                t += int(op[1])  # type: ignore[call-overload]
                for shard in range(shards):
                    evicted = [await s.expire(shard, now_ms=t) for s in stores]
                    assert evicted[0] == evicted[1]
            elif kind == "cancel" and ids:
                rid = ids[int(op[1]) % len(ids)]  # type: ignore[call-overload]
                cancelled = [await s.cancel(rid, now_ms=t) for s in stores]
                assert cancelled[0] == cancelled[1]
            elif kind == "complete" and ids:
                rid = ids[int(op[1]) % len(ids)]  # type: ignore[call-overload]
                tokens = int(op[2])  # type: ignore[call-overload]
                usage = None if tokens < 0 else tokens
                done = [
                    await s.complete(rid, input_tokens=usage, output_tokens=usage, now_ms=t)
                    for s in stores
                ]
                assert done[0] == done[1]
            elif kind == "collect":
                collected = [await s.collect(now_ms=t) for s in stores]
                assert collected[0] == collected[1]
        for shard in range(shards):
            assert await memory.snapshot(shard, window=10) == await redis.snapshot(shard, window=10)
            assert await memory.shard_stats(shard) == await redis.shard_stats(shard)
        assert await memory.outcomes(ids) == await redis.outcomes(ids)
        assert await memory.flow_count() == await redis.flow_count()
    finally:
        await client.aclose()


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(program=ops)
def test_lua_scripts_answer_exactly_like_the_model(
    program: list[tuple[object, ...]], redis_url: str
) -> None:
    asyncio.run(_run_program(program, redis_url))


async def test_a_dispatched_record_outlives_its_retention_until_settled(redis_url: str) -> None:
    """No replica collected in the window between the in-flight TTL and the record's
    retention (all down, or a short retention): the record must still be there when
    one does, or the flow's in-flight count could never be freed."""
    settings = StoreSettings(flow_idle_ms=50, outcome_keep_ms=50, inflight_ttl_ms=100)
    client = Redis.from_url(redis_url)
    try:
        store = RedisFlowStore(client, f"test/{uuid.uuid4().hex[:12]}", settings=settings)
        t = now_ms()
        assert await store.claim(0, ME, ttl_ms=10_000, now_ms=t)
        await store.admit(ticket("orphan", "tenant"), OPEN, shards=1, now_ms=t)
        await store.dispatch(0, ME, "orphan", WEIGHTS, now_ms=t)
        await asyncio.sleep(0.4)  # past t + in-flight TTL + retention, in Redis's time
        assert (await store.collect(now_ms=now_ms())).inflight_expired == 1
        await asyncio.sleep(0.1)  # the flow is idle for flow_idle_ms
        assert (await store.collect(now_ms=now_ms())).flows_collected == 1
        assert await store.flow_count() == 0
    finally:
        await client.aclose()


async def test_an_admission_laid_out_in_another_shard_count_is_refused(store: FlowStore) -> None:
    """During a rolling update that changed shardCount, an old replica must not queue
    on shards the new layout has no worker for: its Admit fails (UNAVAILABLE: the picker
    retries on another replica) naming both counts."""
    t = now_ms()
    await store.check_layout(2)
    queued = await store.admit(ticket("new", "a"), OPEN, shards=2, now_ms=t)
    with pytest.raises(LayoutChangedError, match="laid out in 2 shards and this replica in 4"):
        await store.admit(ticket("old", "b"), OPEN, shards=4, now_ms=t)
    # An admission already made is still answered, whatever the caller's count.
    again = await store.admit(ticket("new", "a"), OPEN, shards=4, now_ms=t)
    assert again.status is AdmitStatus.EXISTING and again.shard == queued.shard
