"""no-hit-lru-scorer and session-affinity-scorer, on worked examples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gie.events import Endpoint, EndpointMetrics, RequestRouted
from gie.prefix import PrefixKey
from gie.saturation import SaturationConfig
from gie.view import EndpointState, PoolView, RoutingHistory
from gie_picker.prefixcache.state import PrefixCacheState
from gie_picker.projections.routing_memory import RoutingMemory
from gie_picker.scheduling.contracts import PreparedPrefix, SchedulingRequest
from gie_picker.scheduling.scorers import (
    NoHitLRUScorer,
    SessionAffinityParameters,
    SessionAffinityScorer,
)
from gie_picker.scheduling.scorers.session_affinity_scorer import session_key

POOL = "default/p"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
A, B, C = "10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"


def state(address: str, waiting: int = 0, age_s: float = 0.05) -> EndpointState:
    metrics = EndpointMetrics(waiting_queue_size=waiting, running_requests=0, kv_cache_usage=0.1)
    return EndpointState(Endpoint(address=address), metrics, NOW - timedelta(seconds=age_s))


def routed(target: str, session: str | None = None) -> RequestRouted:
    return RequestRouted(
        source="p",
        pool=POOL,
        request_id=target,
        model="m",
        target=target,
        picker="p",
        session=session,
    )


def test_cold_requests_prefer_the_least_recently_used_endpoint() -> None:
    history = RoutingHistory(POOL)
    for target in (A, B):  # C never used, then A, then B most recently
        history.apply(routed(target))
    scorer = NoHitLRUScorer(routing=RoutingMemory(history), prefix_cache=None)
    scores = scorer.score(SchedulingRequest("r", "m"), [state(A), state(B), state(C)])
    assert scores == {C: 1.0, A: 0.5, B: 0.0}


def test_warm_requests_leave_the_choice_to_the_prefix_scorer() -> None:
    cache = PrefixCacheState(PoolView(POOL))
    cache.prepare("r", PreparedPrefix((1, 2), 4, False, 100))
    cache.index.add([1, 2], B, capacity=100)
    history = RoutingHistory(POOL)
    scorer = NoHitLRUScorer(routing=RoutingMemory(history), prefix_cache=cache)
    assert scorer.score(SchedulingRequest("r", "m"), [state(A), state(B)]) == {A: 0.0, B: 0.0}


@pytest.mark.parametrize(
    ("sticky_state", "expected"),
    [
        (state(B), {A: 0.0, B: 1.0}),
        (state(B, waiting=50), {A: 0.0, B: 0.0}),  # saturated: the session may move
        (state(B, age_s=10), {A: 0.0, B: 0.0}),  # stale metrics: no capacity known
    ],
    ids=["has-capacity", "saturated", "stale"],
)
def test_a_session_sticks_while_its_endpoint_has_capacity(
    sticky_state: EndpointState, expected: dict[str, float]
) -> None:
    history = RoutingHistory(POOL)
    history.apply(routed(B, session=session_key("chat-42", key=PrefixKey.public_default())))
    scorer = SessionAffinityScorer(
        SessionAffinityParameters(),
        routing=RoutingMemory(history),
        saturation=SaturationConfig(),
        now=lambda: NOW,
    )
    request = SchedulingRequest("r", "m", headers={"x-session-id": "chat-42"})
    assert scorer.score(request, [state(A), sticky_state]) == expected


def test_the_session_key_is_published_not_the_header_value() -> None:
    memory = RoutingMemory(RoutingHistory(POOL))
    scorer = SessionAffinityScorer(
        SessionAffinityParameters.model_validate({"headerName": "x-chat"}), routing=memory
    )
    scorer.score(SchedulingRequest("r", "m", headers={"X-Chat": "secret"}), [state(A)])
    published = memory.routed("r", A)
    assert (
        published == session_key("secret", key=PrefixKey.public_default())
        and "secret" not in published
    )
    assert memory.session_endpoint(session_key("secret", key=PrefixKey.public_default())) == A


def test_requests_without_the_header_are_not_affected() -> None:
    scorer = SessionAffinityScorer(
        SessionAffinityParameters(), routing=RoutingMemory(RoutingHistory(POOL))
    )
    assert scorer.score(SchedulingRequest("r", "m"), [state(A), state(B)]) == {A: 0.0, B: 0.0}


def test_the_session_key_is_keyed_with_the_pools_secret() -> None:
    ours, theirs = PrefixKey(b"our pool's secret, 32 bytes long"), PrefixKey(b"x" * 32)
    assert session_key("alice@example.com", key=ours) != session_key(
        "alice@example.com", key=theirs
    )
    assert len(session_key("alice@example.com", key=ours)) == 32  # the published width
    memory = RoutingMemory(RoutingHistory(POOL))
    scorer = SessionAffinityScorer(SessionAffinityParameters(), routing=memory, key=ours)
    scorer.score(SchedulingRequest("r", "m", headers={"x-session-id": "alice"}), [state(A)])
    assert memory.routed("r", A) == session_key("alice", key=ours)
