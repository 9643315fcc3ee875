"""BacklogView: the backlog per band, folded from flow events, idempotently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gie.events import (
    Event,
    RequestDispatched,
    RequestEvicted,
    RequestQueued,
    RequestRejected,
)
from gie.flowcontrol import BacklogView

POOL = "ns/pool"
T0 = datetime(2030, 1, 1, tzinfo=UTC)


def queued(rid: str, priority: int, at: datetime = T0, pool: str = POOL) -> RequestQueued:
    return RequestQueued(
        source="fc",
        pool=pool,
        occurred_at=at,
        request_id=rid,
        fairness_id="t",
        priority=priority,
        shard=0,
    )


def dispatched(rid: str, priority: int) -> RequestDispatched:
    return RequestDispatched(
        source="fc",
        pool=POOL,
        occurred_at=T0,
        request_id=rid,
        fairness_id="t",
        priority=priority,
        shard=0,
    )


def test_bands_count_what_is_queued_until_its_outcome() -> None:
    view = BacklogView(POOL)
    events: list[Event] = [
        queued("a", 0),
        queued("b", 5),
        queued("c", 0),
        dispatched("a", 0),
        RequestEvicted(
            source="fc",
            pool=POOL,
            request_id="b",
            fairness_id="t",
            priority=5,
            shard=0,
            reason="ttl",
            outcome="EvictedTTL",
        ),
        RequestRejected(
            source="fc", pool=POOL, request_id="d", fairness_id="t", priority=9, reason="band-bytes"
        ),
        queued("e", 0, pool="other/pool"),
    ]
    for event in events:
        view.apply(event)
    assert view.bands() == {0: 1} and len(view) == 1
    assert view.waiting_at_or_above(0) and view.waiting_at_or_above(-3)
    assert not view.waiting_at_or_above(1)
    assert view.queued(0) == 1 and view.queued(5) == 0


def test_applying_events_again_in_any_order_changes_nothing() -> None:
    view = BacklogView(POOL)
    for event in [queued("a", 1), dispatched("a", 1), queued("a", 1), dispatched("a", 1)]:
        view.apply(event)
    assert view.bands() == {}
    assert view.apply(queued("b", 1)) and not view.apply(queued("b", 1))
    assert view.bands() == {1: 1}


def test_lost_outcomes_expire() -> None:
    view = BacklogView(POOL, ttl_s=60)
    view.apply(queued("old", 0, at=T0))
    view.apply(queued("new", 0, at=T0 + timedelta(seconds=50)))
    assert view.expire(T0 + timedelta(seconds=70)) == 1
    assert view.bands() == {0: 1}
