"""The fairness bench's window rates, confidence intervals, replica stats and headline."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from bench.fairness.cli import _report
from bench.fairness.metrics import mean_ci95, rate_within
from bench.fairness.replicas import _summarise
from bench.fairness.runner import headline
from bench.fairness.scenario import FairnessOptions

REPLICA_PAGE = """\
# TYPE inference_extension_flow_control_request_queue_duration_seconds histogram
inference_extension_flow_control_request_queue_duration_seconds_bucket{fairness_id="a",priority="0",outcome="Dispatched",le="+Inf"} 3.0
inference_extension_flow_control_request_queue_duration_seconds_count{fairness_id="a",priority="0",outcome="Dispatched"} 3.0
inference_extension_flow_control_request_queue_duration_seconds_sum{fairness_id="a",priority="0",outcome="Dispatched"} 0.5
inference_extension_flow_control_request_queue_duration_seconds_count{fairness_id="b",priority="0",outcome="EvictedTTL"} 2.0
# TYPE gie_flow_control_outcomes_total counter
gie_flow_control_outcomes_total{priority="0",outcome="Dispatched",reason=""} 4.0
gie_flow_control_outcomes_total{priority="0",outcome="EvictedTTL",reason="ttl"} 1.0
# TYPE gie_flow_control_owned_shards gauge
gie_flow_control_owned_shards 1.0
"""  # noqa: E501


@pytest.mark.parametrize(
    ("times", "start", "end", "expected"),
    [
        pytest.param([0.5, 1.0, 1.5, 2.0, None], 1.0, 2.0, 2.0, id="half-open-window"),
        pytest.param([None, None], 0.0, 1.0, 0.0, id="nothing-happened"),
        pytest.param([3.0, 4.0, 5.0, 6.0], 2.0, 6.0, 0.75, id="per-second"),
    ],
)
def test_rate_within_counts_the_window_only(
    times: list[float | None], start: float, end: float, expected: float
) -> None:
    assert rate_within(times, start=start, end=end) == pytest.approx(expected)


def test_rate_within_refuses_an_empty_window() -> None:
    with pytest.raises(ValueError, match="window"):
        rate_within([1.0], start=2.0, end=2.0)


def test_mean_ci95_uses_students_t() -> None:
    interval = mean_ci95([0.01, 0.03, 0.02, 0.04, 0.00])
    assert interval.mean == pytest.approx(0.02)
    # s = 0.0158, t(4) = 2.776: half-width = 2.776 * 0.0158 / sqrt(5)
    assert interval.half_width == pytest.approx(2.776 * math.sqrt(0.00025) / math.sqrt(5))
    assert interval.low < interval.mean < interval.high


def test_mean_ci95_of_one_value_has_no_resolution() -> None:
    assert math.isinf(mean_ci95([0.1]).half_width)
    with pytest.raises(ValueError):
        mean_ci95([])


def test_a_replicas_metrics_page_gives_calls_outcomes_and_shards() -> None:
    assert _summarise(REPLICA_PAGE) == {
        "admit_answered": 5,
        "outcomes_decided": {"Dispatched": 4, "EvictedTTL": 1},
        "owned_shards": 1,
    }


def _mode(jain: float, p99: float, served: float) -> dict[str, Any]:
    return {"jain_index": jain, "light_ttft_p99_s": p99, "throughput": {"completed_per_s": served}}


@pytest.mark.parametrize(
    ("interval", "met"),
    [
        pytest.param([0.0, 0.04], True, id="interval-within-target"),
        pytest.param([0.02, 0.06], False, id="upper-bound-above-target"),
        pytest.param(None, False, id="no-resolution"),
    ],
)
def test_overhead_target_needs_the_whole_interval_under_5pct(
    interval: list[float] | None, met: bool, tmp_path: Path
) -> None:
    modes = {"flow_control": _mode(0.99, 2.0, 2.7), "no_flow_control": _mode(0.6, 30.0, 2.7)}
    overhead = {
        "overhead": 0.02,
        "overhead_ci95": interval,
        "marginal_overhead": 0.03,
        "marginal_overhead_ci95": interval,
        "cpu_ms_per_request": {"flow_control": 5.1, "no_flow_control": 5.0},
    }
    result = headline(modes, overhead, FairnessOptions(work_dir=tmp_path))
    assert result["targets"]["unsaturated_overhead_le_5pct"] is met
    assert result["targets"]["jain_index_ge_0_98"] is True
    assert result["light_ttft_p99_improvement"] == 15.0
    assert result["served_per_s"] == {"flow_control": 2.7, "no_flow_control": 2.7}
    assert result["setup"]["flow_controller_replicas"] == 2


def test_the_text_report_names_the_replicas_and_every_measure(tmp_path: Path) -> None:
    modes = {"flow_control": _mode(0.99, 2.0, 2.7), "no_flow_control": _mode(0.6, 30.0, 2.6)}
    overhead = {
        "overhead": 0.01,
        "overhead_ci95": [-0.01, 0.03],
        "marginal_overhead": 0.02,
        "marginal_overhead_ci95": None,
        "cpu_ms_per_request": {"flow_control": 5.05, "no_flow_control": 5.0},
    }
    report = _report(headline(modes, overhead, FairnessOptions(work_dir=tmp_path)))
    assert "2 picker replicas, 2 flow-controller replicas" in report
    assert "2.7 req/s with, 2.6 req/s without" in report
    assert "+1.0% (95% CI -1.0% .. +3.0%" in report
    assert "target <= 5%: met" in report
    assert "marginal (idle CPU removed): +2.0% (95% CI n/a)" in report
