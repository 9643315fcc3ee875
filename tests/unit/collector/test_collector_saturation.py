"""The pool's saturation: upstream's rule with a cause, published by the leader on flips."""

from __future__ import annotations

import pytest
from collector_fakes import FakeClock, RecordingOutbox

from gie.events import (
    Endpoint,
    EndpointMetrics,
    EndpointMetricsObserved,
    EndpointUpserted,
    PoolSaturationChanged,
)
from gie.saturation import SaturationConfig
from gie.view import PoolView
from gie_metrics_collector.pool import SaturationMonitor, cause_of_reason

POOL = "ns/pool"
A, B = "10.0.0.1:8000", "10.0.0.2:8000"
IDLE = EndpointMetrics(waiting_queue_size=0, running_requests=0, kv_cache_usage=0.1)
FULL = EndpointMetrics(waiting_queue_size=20, running_requests=8, kv_cache_usage=0.95)


class Leader:
    def __init__(self) -> None:
        self.leads = True

    def __call__(self) -> bool:
        return self.leads


@pytest.fixture
def leader() -> Leader:
    return Leader()


@pytest.fixture
def monitor(clock: FakeClock, outbox: RecordingOutbox, leader: Leader) -> SaturationMonitor:
    mon = SaturationMonitor(
        view=PoolView(POOL),
        config=SaturationConfig(),
        outbox=outbox,
        source="collector-a",
        clock=clock,
        is_leader=leader,
    )
    for address in (A, B):
        mon.apply(EndpointUpserted(source="t", pool=POOL, endpoint=Endpoint(address=address)))
    mon.arm(0.0)
    return mon


def observe(mon: SaturationMonitor, clock: FakeClock, address: str, m: EndpointMetrics) -> None:
    clock.advance(0.001)  # consumers keep the newest scrape: each one is a little later
    mon.apply(
        EndpointMetricsObserved(
            source="c", pool=POOL, address=address, scraped_at=clock.now(), metrics=m
        )
    )


def causes(outbox: RecordingOutbox) -> list[tuple[bool, str]]:
    return [
        (e.saturated, cause_of_reason(e.reason))
        for e in outbox.events
        if isinstance(e, PoolSaturationChanged)
    ]


def test_flips_are_published_once_each(
    monitor: SaturationMonitor, clock: FakeClock, outbox: RecordingOutbox
) -> None:
    observe(monitor, clock, A, IDLE)
    observe(monitor, clock, B, FULL)
    monitor.evaluate()
    monitor.evaluate()
    observe(monitor, clock, A, FULL)
    monitor.evaluate()
    assert causes(outbox) == [(False, "capacity"), (True, "overloaded")]
    event = outbox.events[-1]
    assert isinstance(event, PoolSaturationChanged)
    assert (event.endpoints_with_capacity, event.endpoints_total) == (0, 2)


def test_an_all_stale_pool_is_saturated_with_its_own_cause(
    monitor: SaturationMonitor, clock: FakeClock, outbox: RecordingOutbox
) -> None:
    observe(monitor, clock, A, IDLE)
    observe(monitor, clock, B, IDLE)
    monitor.evaluate()
    clock.advance(0.3)  # no event arrives: staleness is noticed by the timer
    monitor.evaluate()
    assert causes(outbox) == [(False, "capacity"), (True, "all-stale")]
    last = outbox.events[-1]
    assert isinstance(last, PoolSaturationChanged)
    assert "in-flight" in last.reason
    assert monitor.state is not None and monitor.state.stale == 2


def test_an_overloaded_pool_with_some_stale_endpoints_is_overloaded_not_stale(
    monitor: SaturationMonitor, clock: FakeClock, outbox: RecordingOutbox
) -> None:
    observe(monitor, clock, A, IDLE)
    clock.advance(0.3)
    observe(monitor, clock, B, FULL)
    monitor.evaluate()
    assert causes(outbox) == [(True, "overloaded")]


def test_only_the_leader_publishes_and_a_new_leader_does_not_repeat_the_bus(
    monitor: SaturationMonitor, clock: FakeClock, outbox: RecordingOutbox, leader: Leader
) -> None:
    leader.leads = False
    observe(monitor, clock, A, IDLE)
    monitor.evaluate()
    assert outbox.events == []
    # The previous leader's event is on the bus already.
    monitor.apply(
        PoolSaturationChanged(
            source="collector-b",
            pool=POOL,
            saturated=False,
            endpoints_with_capacity=1,
            endpoints_total=2,
            reason="capacity: 1 of 2 endpoints have capacity",
        )
    )
    leader.leads = True
    monitor.evaluate()
    assert outbox.events == []


def test_nothing_is_published_before_the_start_up_grace(
    clock: FakeClock, outbox: RecordingOutbox, leader: Leader
) -> None:
    mon = SaturationMonitor(
        view=PoolView(POOL),
        config=SaturationConfig(),
        outbox=outbox,
        source="a",
        clock=clock,
        is_leader=leader,
    )
    mon.evaluate()
    mon.arm(0.2)
    mon.evaluate()
    assert outbox.events == []
    clock.advance(0.25)
    mon.evaluate()
    assert causes(outbox) == [(True, "no-endpoints")]


def test_events_of_other_publishers_have_no_cause() -> None:
    assert cause_of_reason("every endpoint's metrics are stale") == ""
    assert cause_of_reason("all-stale: x") == "all-stale"
