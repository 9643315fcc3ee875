"""Worked examples of prefix-cache scoring and the shared index fold."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from gie.events import (
    Endpoint,
    EndpointMetrics,
    EndpointMetricsObserved,
    EndpointRemoved,
    EndpointUpserted,
    RequestRouted,
)
from gie.events.hashes import pack_hashes
from gie.prefix import PrefixKey, block_hashes
from gie.view import PoolView
from gie_picker.prefixcache.state import PrefixCacheState
from gie_picker.projections.state import Projections
from gie_picker.scheduling.contracts import SchedulingRequest
from gie_picker.scheduling.scorers.prefix_cache_scorer import (
    PrefixCacheParameters,
    PrefixCacheScorer,
)
from gie_picker.settings import PickerSettings

POOL = "default/p"
A, B = "10.0.0.1:8000", "10.0.0.2:8000"


def make_view(block_size: int | None = None, blocks: int | None = None) -> PoolView:
    view = PoolView(POOL)
    for address in (A, B):
        view.apply(EndpointUpserted(source="t", pool=POOL, endpoint=Endpoint(address=address)))
        view.apply(
            EndpointMetricsObserved(
                source="t",
                pool=POOL,
                address=address,
                scraped_at=datetime.now(UTC),
                metrics=EndpointMetrics(
                    waiting_queue_size=0,
                    running_requests=0,
                    kv_cache_usage=0.0,
                    kv_block_size=block_size,
                    kv_num_blocks=blocks,
                ),
            )
        )
    return view


KEY = PrefixKey(b"prefix scorer test secret.......")


def scorer_for(view: PoolView, **params: object) -> tuple[PrefixCacheScorer, PrefixCacheState]:
    cache = PrefixCacheState(view)
    parameters = PrefixCacheParameters.model_validate({"autoTune": False, "blockSize": 4, **params})
    return PrefixCacheScorer(parameters, cache=cache, key=KEY), cache


def request(rid: str, prompt: str, **kw: str) -> SchedulingRequest:
    return SchedulingRequest(request_id=rid, model="m", prompt=prompt, **kw)


def routed(cache: PrefixCacheState, rid: str, target: str) -> RequestRouted:
    result = cache.routed(rid, target)
    assert result is not None
    return RequestRouted(
        source="p",
        pool=POOL,
        request_id=rid,
        model="m",
        target=target,
        picker="p",
        block_hashes=pack_hashes(result.hashes),
        prefix_capacity=result.capacity,
    )


@pytest.mark.parametrize(
    ("earlier", "now", "expected"),
    [
        ("aaaabbbbcccc", "aaaabbbbcccc", 1.0),  # whole prompt cached
        ("aaaabbbbcccc", "aaaabbbbzzzz", 2 / 3),  # two of three blocks
        ("aaaabbbbcccc", "zzzzbbbbcccc", 0.0),  # first block differs: nothing matches
        ("aaaabbbb", "aaaabbbbccccdddd", 0.5),  # a longer prompt, half cached
        ("aaaabbbb", "aaa", 0.0),  # shorter than one block
    ],
    ids=["full", "partial", "first-block-differs", "longer-prompt", "too-short"],
)
def test_score_is_the_share_of_leading_blocks_cached(
    earlier: str, now: str, expected: float
) -> None:
    view = make_view()
    scorer, cache = scorer_for(view)
    scorer.score(request("r1", earlier), view.endpoints())
    cache.apply(routed(cache, "r1", A))
    scores = scorer.score(request("r2", now), view.endpoints())
    assert scores.get(A, 0.0) == pytest.approx(expected)
    assert B not in scores  # no match: left out, scores 0


def test_cache_salt_keeps_tenants_apart() -> None:
    view = make_view()
    scorer, cache = scorer_for(view)
    scorer.score(request("r1", "aaaabbbb", cache_salt="tenant-1"), view.endpoints())
    cache.apply(routed(cache, "r1", A))
    other_tenant = scorer.score(request("r2", "aaaabbbb", cache_salt="tenant-2"), view.endpoints())
    assert A not in other_tenant  # no match
    assert scorer.score(request("r3", "aaaabbbb", cache_salt="tenant-1"), view.endpoints())[A] == 1


def test_a_decision_counts_before_its_event_comes_back() -> None:
    view = make_view()
    scorer, cache = scorer_for(view)
    scorer.score(request("r1", "aaaabbbb"), view.endpoints())
    assert cache.routed("r1", B) is not None  # event not folded yet
    assert scorer.score(request("r2", "aaaabbbb"), view.endpoints())[B] == 1.0
    assert cache.index.size == 0  # the shared index only changes through the stream


def test_auto_tune_uses_the_servers_block_size_and_capacity() -> None:
    view = make_view(block_size=2, blocks=77)  # 2 tokens x 4 chars = 8-char blocks
    scorer, cache = scorer_for(view, autoTune=True)
    scorer.score(request("r1", "a" * 20), view.endpoints())
    result = cache.routed("r1", A)
    assert result is not None
    assert len(result.hashes) == 2  # 20 chars / 8 = 2 full blocks
    assert result.capacity == 77


def test_replicas_folding_the_same_events_hold_the_same_index() -> None:
    view = make_view()
    scorer, origin = scorer_for(view)
    events = []
    for n, (prompt, target) in enumerate([("aaaabbbb", A), ("ccccdddd", B), ("aaaacccc", B)]):
        scorer.score(request(f"r{n}", prompt), view.endpoints())
        events.append(routed(origin, f"r{n}", target))
    replicas = [PrefixCacheState(view) for _ in range(2)]
    for replica in replicas:
        for event in events:
            replica.apply(event)
    assert replicas[0].index.digest() == replicas[1].index.digest()
    assert replicas[0].index.size == 6


def test_hashing_a_200kb_prompt_is_bounded_by_max_blocks() -> None:
    view = make_view()
    scorer, cache = scorer_for(view, blockSize=64, maxPrefixBlocksToMatch=256)
    scorer.score(request("r1", "x" * 200_000), view.endpoints())
    result = cache.routed("r1", A)
    assert result is not None and len(result.hashes) == 256
    assert list(result.hashes) == block_hashes(
        b"x" * (64 * 256), key=KEY, model="m", block_size=64, max_blocks=256
    )


def test_an_endpoint_that_leaves_the_pool_leaves_the_index() -> None:
    """A new pod at the same address starts cold: it gets no credit for the blocks its
    predecessor was sent, and removed endpoints do not pile up in the index."""
    state = Projections.create(PickerSettings(pool=POOL), CollectorRegistry())
    for address in (A, B):
        state.apply_state(
            EndpointUpserted(source="t", pool=POOL, endpoint=Endpoint(address=address))
        )
    scorer = PrefixCacheScorer(
        PrefixCacheParameters.model_validate({"autoTune": False, "blockSize": 4}),
        cache=state.prefix_cache,
        key=KEY,
    )
    scorer.score(request("r1", "aaaabbbbcccc"), state.view.endpoints())
    state.prefix_cache.apply(routed(state.prefix_cache, "r1", A))
    scorer.score(request("r2", "aaaabbbbcccc"), state.view.endpoints())
    state.prefix_cache.routed("r2", A)  # a decision still pending when A leaves
    assert state.prefix_cache.index.size > 0
    state.apply_state(EndpointRemoved(source="t", pool=POOL, address=A))
    state.apply_state(EndpointUpserted(source="t", pool=POOL, endpoint=Endpoint(address=A)))
    assert state.prefix_cache.index.size == 0
    assert scorer.score(request("r3", "aaaabbbbcccc"), state.view.endpoints()).get(A, 0.0) == 0.0


def test_a_removal_of_an_endpoint_this_replica_never_saw_still_clears_its_blocks() -> None:
    """A replica starting up loads the prefix index from a snapshot, then reads each
    endpoint's latest event: an endpoint removed since the snapshot was never in its
    view, and its blocks must not stay for a new pod at that address."""
    state = Projections.create(PickerSettings(pool=POOL), CollectorRegistry())
    state.apply_state(EndpointUpserted(source="t", pool=POOL, endpoint=Endpoint(address=B)))
    scorer = PrefixCacheScorer(
        PrefixCacheParameters.model_validate({"autoTune": False, "blockSize": 4}),
        cache=state.prefix_cache,
        key=KEY,
    )
    scorer.score(request("r1", "aaaabbbbcccc"), state.view.endpoints())
    state.prefix_cache.apply(routed(state.prefix_cache, "r1", A))  # as a snapshot holds it
    assert state.prefix_cache.index.size > 0
    state.apply_state(EndpointRemoved(source="t", pool=POOL, address=A))
    assert state.prefix_cache.index.size == 0
