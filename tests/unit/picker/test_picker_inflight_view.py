"""InFlightView: requests in flight per endpoint, folded from routing events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gie.events import Event, RequestCompleted, RequestRouted
from gie.view import InFlightView

POOL = "default/sim-pool"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
A, B = "10.0.0.1:8000", "10.0.0.2:8000"


def routed(request_id: str, target: str, at_s: float = 0.0, pool: str = POOL) -> RequestRouted:
    return RequestRouted(
        source="picker-1",
        pool=pool,
        occurred_at=T0 + timedelta(seconds=at_s),
        request_id=request_id,
        model="m",
        target=target,
        picker="picker-1",
    )


def completed(request_id: str, served: str, at_s: float = 1.0) -> RequestCompleted:
    return RequestCompleted(
        source="picker-2",
        pool=POOL,
        occurred_at=T0 + timedelta(seconds=at_s),
        request_id=request_id,
        target=served,
        picker="picker-2",
        status=200,
    )


def fold(events: list[Event], ttl_s: float = 600.0) -> InFlightView:
    view = InFlightView(POOL, ttl_s=ttl_s)
    for event in events:
        view.apply(event)
    return view


def test_counts_routed_minus_completed_per_endpoint() -> None:
    view = fold([routed("r1", A), routed("r2", A), routed("r3", B), completed("r1", A)])
    assert (view.count(A), view.count(B), view.count("10.0.0.9:8000")) == (1, 1, 0)
    assert view.counts() == {A: 1, B: 1}


@pytest.mark.parametrize(
    "events",
    [
        pytest.param([routed("r1", A), routed("r1", A)], id="duplicate-routed"),
        pytest.param(
            [routed("r1", A), routed("r2", A), completed("r2", A), completed("r2", A)],
            id="duplicate-completed",
        ),
        pytest.param(
            [routed("r1", A), routed("r2", A), completed("r2", A), routed("r2", A)],
            id="routed-redelivered-after-completion",
        ),
        pytest.param(
            [completed("r2", A), routed("r1", A), routed("r2", A)], id="completion-before-routing"
        ),
    ],
)
def test_redelivered_events_change_nothing(events: list[Event]) -> None:
    assert fold(events).counts() == {A: 1}


def test_completion_on_a_fallback_releases_the_primary() -> None:
    view = fold([routed("r1", A), completed("r1", B)])
    assert view.counts() == {}


def test_other_pools_are_ignored() -> None:
    assert fold([routed("r1", A, pool="other/pool")]).counts() == {}


def test_expire_drops_requests_older_than_the_ttl() -> None:
    view = fold([routed("old", A, at_s=0), routed("new", A, at_s=50)], ttl_s=60)
    assert view.expire(T0 + timedelta(seconds=59)) == 0
    assert view.expire(T0 + timedelta(seconds=61)) == 1
    assert view.count(A) == 1
    assert view.expire(T0 + timedelta(seconds=200)) == 1
    assert view.counts() == {} and len(view) == 0


def test_two_views_fed_the_same_events_have_the_same_digest() -> None:
    events: list[Event] = [routed("r1", A), routed("r2", B), completed("r1", A)]
    first, second = fold(events), fold([*events, events[0]])
    assert first.digest() == second.digest()
    assert first.digest() != fold(events[:2]).digest()
