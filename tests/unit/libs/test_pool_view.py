from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from gie.events import (
    Endpoint,
    EndpointMetrics,
    EndpointMetricsObserved,
    EndpointRemoved,
    EndpointUpserted,
    Event,
    ModelRewriteRemoved,
    ModelRewriteUpserted,
    ObjectiveRemoved,
    ObjectiveUpserted,
    RewriteRule,
    RewriteTarget,
)
from gie.view import PoolView

POOL = "default/sim-pool"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def upsert(address: str, name: str = "") -> EndpointUpserted:
    return EndpointUpserted(source="t", pool=POOL, endpoint=Endpoint(address=address, name=name))


def observed(address: str, waiting: int, at_s: float) -> EndpointMetricsObserved:
    return EndpointMetricsObserved(
        source="t",
        pool=POOL,
        address=address,
        scraped_at=T0 + timedelta(seconds=at_s),
        metrics=EndpointMetrics(waiting_queue_size=waiting, running_requests=1, kv_cache_usage=0.1),
    )


def history() -> list[Event]:
    return [
        upsert("10.0.0.1:8000"),
        upsert("10.0.0.2:8000"),
        observed("10.0.0.1:8000", 4, 1),
        observed("10.0.0.2:8000", 1, 1),
        upsert("10.0.0.3:8000"),
        observed("10.0.0.1:8000", 2, 2),
        EndpointRemoved(source="t", pool=POOL, address="10.0.0.2:8000"),
        upsert("10.0.0.1:8000", name="renamed"),
    ]


def test_fold_result_is_what_the_events_say() -> None:
    view = PoolView(POOL)
    view.apply_all(history())
    states = view.endpoints()
    assert [s.address for s in states] == ["10.0.0.1:8000", "10.0.0.3:8000"]
    first = states[0]
    assert first.endpoint.name == "renamed"
    assert first.metrics is not None and first.metrics.waiting_queue_size == 2
    assert states[1].metrics is None


def test_two_views_fed_the_same_events_have_the_same_digest() -> None:
    a, b = PoolView(POOL), PoolView(POOL)
    a.apply_all(history())
    b.apply_all(history())
    assert a.digest() == b.digest()


def test_different_content_gives_different_digests() -> None:
    a, b = PoolView(POOL), PoolView(POOL)
    a.apply_all(history())
    b.apply_all(history()[:-1])
    assert a.digest() != b.digest()


def test_applying_every_event_twice_changes_nothing() -> None:
    once, twice = PoolView(POOL), PoolView(POOL)
    once.apply_all(history())
    for event in history():
        twice.apply(event)
        twice.apply(event)
    assert once.digest() == twice.digest()
    assert twice.apply(history()[-1]) is False


def test_older_metrics_never_replace_newer_ones_whatever_the_order() -> None:
    events = [
        upsert("10.0.0.1:8000"),
        observed("10.0.0.1:8000", 9, 5),
        observed("10.0.0.1:8000", 1, 3),
    ]
    view = PoolView(POOL)
    view.apply_all(events)
    state = view.get("10.0.0.1:8000")
    assert state is not None and state.metrics is not None
    assert state.metrics.waiting_queue_size == 9


def test_metrics_order_does_not_matter_for_the_digest() -> None:
    metrics = [observed("10.0.0.1:8000", w, t) for w, t in [(1, 1), (5, 2), (3, 3), (2, 4)]]
    views = []
    for seed in range(5):
        shuffled = metrics[:]
        random.Random(seed).shuffle(shuffled)
        view = PoolView(POOL)
        view.apply_all([upsert("10.0.0.1:8000"), *shuffled])
        views.append(view.digest())
    assert len(set(views)) == 1


def test_events_of_other_pools_are_ignored() -> None:
    view = PoolView(POOL)
    other = EndpointUpserted(source="t", pool="other/pool", endpoint=Endpoint(address="1.1.1.1:1"))
    assert view.apply(other) is False
    assert len(view) == 0


def test_removal_forgets_metrics_so_a_returning_endpoint_starts_clean() -> None:
    view = PoolView(POOL)
    view.apply_all(
        [
            upsert("10.0.0.1:8000"),
            observed("10.0.0.1:8000", 7, 1),
            EndpointRemoved(source="t", pool=POOL, address="10.0.0.1:8000"),
            upsert("10.0.0.1:8000"),
        ]
    )
    state = view.get("10.0.0.1:8000")
    assert state is not None and state.metrics is None


def test_a_scrape_arriving_after_its_endpoint_left_does_not_come_back_with_it() -> None:
    """The collector may publish a scrape that finished as the endpoint left: a new pod
    at the same address must not inherit the old one's load."""
    view = PoolView(POOL)
    view.apply_all(
        [
            upsert("10.0.0.1:8000"),
            observed("10.0.0.1:8000", 7, 1),
            EndpointRemoved(source="t", pool=POOL, address="10.0.0.1:8000"),
            observed("10.0.0.1:8000", 9, 2),  # late
            upsert("10.0.0.1:8000"),
        ]
    )
    state = view.get("10.0.0.1:8000")
    assert state is not None and state.metrics is None
    assert view.apply(observed("10.0.0.1:8000", 3, 3)) is True  # its own scrapes count


def test_a_scrape_of_an_address_outside_the_pool_is_not_kept() -> None:
    view = PoolView(POOL)
    assert view.apply(observed("10.0.0.9:8000", 5, 1)) is False
    view.apply(upsert("10.0.0.9:8000"))
    state = view.get("10.0.0.9:8000")
    assert state is not None and state.metrics is None


def test_objectives_fold_into_priorities_and_the_digest() -> None:
    view = PoolView(POOL)
    before = view.digest()
    view.apply(ObjectiveUpserted(source="t", pool=POOL, name="batch", priority=-1))
    view.apply(ObjectiveUpserted(source="t", pool=POOL, name="chat", priority=10))
    assert (view.priority_of("batch"), view.priority_of("chat"), view.priority_of("x")) == (
        -1,
        10,
        0,
    )
    assert view.digest() != before
    view.apply(ObjectiveRemoved(source="t", pool=POOL, name="batch"))
    assert view.priority_of("batch") == 0
    assert view.objectives() == {"chat": 10}


def rewrite(name: str, created_s: float, target: str) -> ModelRewriteUpserted:
    rule = RewriteRule(matches=("sim-llama",), targets=(RewriteTarget(model=target),))
    return ModelRewriteUpserted(
        source="t", pool=POOL, name=name, created=T0 + timedelta(seconds=created_s), rules=(rule,)
    )


def test_rewrites_fold_oldest_first_and_into_the_digest() -> None:
    view = PoolView(POOL)
    before = view.digest()
    assert view.apply(rewrite("newer", 20, "b"))
    assert view.apply(rewrite("older", 10, "a"))
    assert [r.name for r in view.rewrites()] == ["older", "newer"]
    assert view.digest() != before
    assert not view.apply(rewrite("older", 10, "a"))  # the same fact again
    assert view.apply(rewrite("older", 10, "c"))  # its rules changed
    assert view.rewrites()[0].rules[0].targets[0].model == "c"
    assert view.apply(ModelRewriteRemoved(source="t", pool=POOL, name="older"))
    assert [r.name for r in view.rewrites()] == ["newer"]
