from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from gie.config.durations import format_duration, parse_duration
from gie.events import Endpoint, EndpointMetrics
from gie.saturation import SaturationConfig, has_capacity, pool_saturation
from gie.view import EndpointState

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CONFIG = SaturationConfig()


def state(waiting: int, kv: float, age_s: float | None = 0.05) -> EndpointState:
    metrics = EndpointMetrics(waiting_queue_size=waiting, running_requests=0, kv_cache_usage=kv)
    if age_s is None:
        return EndpointState(Endpoint(address="10.0.0.1:80"))
    return EndpointState(Endpoint(address="10.0.0.1:80"), metrics, NOW - timedelta(seconds=age_s))


@pytest.mark.parametrize(
    ("endpoint", "capacity"),
    [
        (state(0, 0.1), True),
        (state(5, 0.8), True),  # thresholds are inclusive
        (state(6, 0.1), False),
        (state(0, 0.81), False),
        (state(0, 0.1, age_s=0.5), False),  # stale
        (state(0, 0.1, age_s=None), False),  # never scraped
    ],
    ids=["idle", "at-thresholds", "queue-over", "kv-over", "stale", "no-metrics"],
)
def test_endpoint_capacity_follows_the_upstream_rule(
    endpoint: EndpointState, capacity: bool
) -> None:
    assert has_capacity(endpoint, now=NOW, config=CONFIG) is capacity


@pytest.mark.parametrize(
    ("states", "saturated", "reason"),
    [
        ([state(9, 0.1), state(0, 0.1)], False, "1 of 2 endpoints have capacity"),
        ([state(9, 0.1), state(0, 0.9)], True, "over queue depth 5"),
        ([state(0, 0.1, age_s=1.0)], True, "stale"),
        ([], True, "no endpoints"),
    ],
    ids=["one-free", "all-busy", "all-stale", "empty"],
)
def test_pool_saturation_says_why(
    states: list[EndpointState], saturated: bool, reason: str
) -> None:
    result = pool_saturation(states, now=NOW, config=CONFIG)
    assert result.saturated is saturated
    assert reason in result.reason


def test_config_reads_upstream_field_names_and_durations() -> None:
    config = SaturationConfig.model_validate(
        {"queueDepthThreshold": 3, "kvCacheUtilThreshold": 0.5, "metricsStalenessThreshold": "1s"}
    )
    assert (config.queue_depth_threshold, config.kv_cache_util_threshold) == (3, 0.5)
    assert config.metrics_staleness_s == 1.0
    with pytest.raises(ValidationError, match="queueDepthTreshold"):
        SaturationConfig.model_validate({"queueDepthTreshold": 3})


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("200ms", 0.2), ("1.5s", 1.5), ("1m30s", 90.0), ("0", 0.0), ("250us", 0.00025), (2, 2.0)],
)
def test_go_durations_parse(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "200", "ms", "1x", "-1s", "1s2"])
def test_bad_durations_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.2, "200ms"),
        (2.0, "2s"),
        (90.0, "90s"),
        (120.0, "2m"),
        (7200.0, "2h"),
        (1.234567, "1234567us"),
        (1e-6, "1us"),
        (0.0, "0s"),
    ],
)
def test_durations_render_exactly_and_parse_back(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds, rel=1e-12)


@pytest.mark.parametrize("value", [200, 0.5, float("inf")])
def test_a_document_needs_a_unit_on_every_duration_but_zero(value: float) -> None:
    with pytest.raises(ValueError, match="needs a unit"):
        parse_duration(value, document=True)
    assert parse_duration(0, document=True) == 0.0


def test_durations_are_whole_nanoseconds_so_a_rendered_one_reloads_the_same() -> None:
    assert parse_duration("0.4ns") == 0.0  # not 4e-10, which would render as "0s"
    for text in ("1.2345678912s", "1.5ns", "2h0.5ns"):
        seconds = parse_duration(text)
        assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("value", [float("inf"), float("nan"), "9" * 400 + "h"])
def test_durations_are_finite(value: float | str) -> None:
    with pytest.raises(ValueError, match=r"finite|too large"):
        parse_duration(value)


def test_metrics_from_a_clock_ahead_are_stale_not_fresh() -> None:
    """A collector whose clock is ahead stamps scrapes in the reader's future: taken as
    fresh they would stand (newest wins) over every correct scrape until real time
    catches up. More than a second ahead, they are stale."""
    assert not has_capacity(state(0, 0.1, age_s=-30.0), now=NOW, config=CONFIG)
    assert has_capacity(state(0, 0.1, age_s=-0.5), now=NOW, config=CONFIG)  # small skew
