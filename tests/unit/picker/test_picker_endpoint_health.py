"""EndpointHealth: which endpoints the picker leaves out, and when they come back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from gie.events import Endpoint, EndpointMetrics
from gie.view import EndpointState
from gie_picker.health import EndpointHealth, HealthMetrics

A, B = "10.0.0.1:8000", "10.0.0.2:8000"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
METRICS = EndpointMetrics(waiting_queue_size=0, running_requests=0, kv_cache_usage=0.0)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@dataclass(frozen=True)
class Report:
    served: str
    status: int = 200
    failure: str | None = None
    failed_first: tuple[str, ...] = ()


def state(address: str, age_s: float | None = 0.05) -> EndpointState:
    if age_s is None:
        return EndpointState(Endpoint(address=address))
    return EndpointState(Endpoint(address=address), METRICS, NOW - timedelta(seconds=age_s))


def make(
    clock: Clock, *, base: float = 2.0, most: float = 30.0, after: float = 1.0
) -> tuple[EndpointHealth, HealthMetrics]:
    metrics = HealthMetrics(None)
    health = EndpointHealth(
        metrics=metrics,
        monotonic=clock,
        base_ejection_s=base,
        max_ejection_s=most,
        unreachable_after_s=after,
    )
    return health, metrics


def usable(health: EndpointHealth, *states: EndpointState) -> list[str]:
    return [s.address for s in health.usable(list(states), NOW)]


@pytest.mark.parametrize(
    ("report", "reason"),
    [
        (Report(A, status=503, failure="http_5xx"), "http_5xx"),
        (Report(A, status=0, failure="reset"), "reset"),
        (Report(A, status=0, failure="connect_failure"), "connect_failure"),
        (Report(B, failed_first=(A,)), "retried"),
    ],
    ids=["503", "reset", "connect-failure", "retried-on-fallback"],
)
def test_a_failure_ejects_the_endpoint_for_the_base_time(report: Report, reason: str) -> None:
    clock = Clock()
    health, metrics = make(clock)
    health.observe(report)
    assert usable(health, state(A), state(B)) == [B]
    assert metrics.by_reason[reason].value == 1
    clock.t += 1.9
    assert usable(health, state(A), state(B)) == [B]
    clock.t += 0.2
    assert usable(health, state(A), state(B)) == [A, B]
    assert metrics.returns.labels().value == 1


def test_ejections_in_a_row_double_until_a_success() -> None:
    clock = Clock()
    health, _ = make(clock, base=2.0, most=5.0)
    lengths = []
    for _ in range(3):
        start = clock.t
        health.failed(A, "reset")
        while A not in usable(health, state(A), state(B)):
            clock.t += 0.5
        lengths.append(clock.t - start)
    assert lengths == [2.0, 4.0, 5.0]  # capped at the longest ejection
    health.observe(Report(A))  # it served again: the next ejection is short
    start = clock.t
    health.failed(A, "reset")
    while A not in usable(health, state(A), state(B)):
        clock.t += 0.5
    assert clock.t - start == 2.0


def test_failures_during_an_ejection_do_not_lengthen_it() -> None:
    clock = Clock()
    health, metrics = make(clock)
    health.failed(A, "reset")
    clock.t += 1.0
    health.failed(A, "reset")  # a request sent before the ejection
    clock.t += 1.1
    assert usable(health, state(A), state(B)) == [A, B]
    assert metrics.by_reason["reset"].value == 1


@pytest.mark.parametrize(
    ("age_a", "kept"),
    [
        (0.05, [A, B]),
        (0.9, [A, B]),
        (1.5, [B]),  # its scrapes stopped: refused, reset or hung
        (None, [A, B]),  # never scraped: unknown is not failed
    ],
    ids=["fresh", "late", "unreachable", "never-scraped"],
)
def test_an_endpoint_whose_scrapes_stopped_is_left_out(
    age_a: float | None, kept: list[str]
) -> None:
    health, _ = make(Clock())
    assert usable(health, state(A, age_a), state(B)) == kept


def test_an_unreachable_endpoint_is_counted_once_and_comes_back_with_a_scrape() -> None:
    health, metrics = make(Clock())
    for _ in range(3):
        assert usable(health, state(A, 1.5), state(B)) == [B]
    assert metrics.by_reason["scrape"].value == 1
    assert metrics.left_out.labels().value == 1
    assert usable(health, state(A), state(B)) == [A, B]
    assert metrics.returns.labels().value == 1
    assert metrics.left_out.labels().value == 0


def test_when_every_endpoint_failed_all_are_used() -> None:
    health, metrics = make(Clock())
    health.failed(A, "reset")
    assert usable(health, state(A), state(B, 5.0)) == [A, B]
    assert metrics.all_left_out.labels().value == 1


def test_zero_turns_each_judgement_off() -> None:
    health, _ = make(Clock(), base=0.0, after=0.0)
    health.failed(A, "reset")
    assert usable(health, state(A), state(B, 60.0)) == [A, B]


def test_bad_times_are_refused() -> None:
    with pytest.raises(ValueError, match="out of range"):
        make(Clock(), base=5.0, most=1.0)
