"""Each built-in scorer against worked examples."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gie.events import Endpoint, EndpointMetrics
from gie.view import EndpointState
from gie_picker.scheduling import SchedulingRequest
from gie_picker.scheduling.parameters import PluginParameters
from gie_picker.scheduling.scorers import (
    ActiveRequestScorer,
    KVCacheUtilizationScorer,
    LoraAffinityScorer,
    PrefixCacheParameters,
    PrefixCacheScorer,
    QueueScorer,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
REQUEST = SchedulingRequest(request_id="r1", model="sql-lora")


def state(address: str, metrics: EndpointMetrics | None) -> EndpointState:
    return EndpointState(Endpoint(address=address), metrics, T0 if metrics else None)


def queued(waiting: int, kv: float = 0.0) -> EndpointMetrics:
    return EndpointMetrics(waiting_queue_size=waiting, running_requests=0, kv_cache_usage=kv)


def loras(
    running: tuple[str, ...], waiting: tuple[str, ...], max_lora: int | None
) -> EndpointMetrics:
    return EndpointMetrics(
        waiting_queue_size=0,
        running_requests=0,
        kv_cache_usage=0.0,
        lora_running=running,
        lora_waiting=waiting,
        max_lora=max_lora,
    )


def endpoints(*metrics: EndpointMetrics | None) -> list[EndpointState]:
    return [state(f"10.0.0.{i + 1}:8000", m) for i, m in enumerate(metrics)]


def scores_of(result: dict[str, float]) -> list[float]:
    return [round(result[f"10.0.0.{i + 1}:8000"], 6) for i in range(len(result))]


@pytest.mark.parametrize(
    ("queues", "expected"),
    [
        pytest.param([0, 5, 10], [1.0, 0.5, 0.0], id="linear-between-min-and-max"),
        pytest.param([3, 3, 3], [1.0, 1.0, 1.0], id="all-equal-score-1"),
        pytest.param([2, 6], [1.0, 0.0], id="two-endpoints"),
        pytest.param([4, None], [0.0, 1.0], id="no-metrics-counts-as-empty-queue"),
        pytest.param([7], [1.0], id="single-endpoint"),
    ],
)
def test_queue_scorer(queues: list[int | None], expected: list[float]) -> None:
    metrics = [queued(q) if q is not None else None for q in queues]
    assert scores_of(QueueScorer().score(REQUEST, endpoints(*metrics))) == expected


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        pytest.param([0.0, 0.25, 1.0], [1.0, 0.75, 0.0], id="one-minus-utilisation"),
        pytest.param([None], [1.0], id="no-metrics-counts-as-empty-cache"),
    ],
)
def test_kv_cache_utilization_scorer(usage: list[float | None], expected: list[float]) -> None:
    metrics = [queued(0, kv) if kv is not None else None for kv in usage]
    assert scores_of(KVCacheUtilizationScorer().score(REQUEST, endpoints(*metrics))) == expected


@pytest.mark.parametrize(
    ("metrics", "expected"),
    [
        pytest.param(loras(("sql-lora",), (), 1), 1.0, id="adapter-running"),
        pytest.param(loras(("other",), (), 4), 0.8, id="free-slot"),
        pytest.param(loras(("a",), ("sql-lora",), 4), 0.8, id="free-slot-beats-waiting"),
        pytest.param(loras(("a",), ("sql-lora",), 2), 0.6, id="adapter-waiting-no-slot"),
        pytest.param(loras(("a", "b"), (), 2), 0.0, id="full-without-adapter"),
        pytest.param(loras((), (), None), 0.0, id="server-reports-no-max-lora"),
        pytest.param(None, 0.0, id="no-metrics"),
    ],
)
def test_lora_affinity_scorer(metrics: EndpointMetrics | None, expected: float) -> None:
    assert scores_of(LoraAffinityScorer().score(REQUEST, endpoints(metrics))) == [expected]


class Counts:
    def __init__(self, counts: list[int]) -> None:
        self._counts = {f"10.0.0.{i + 1}:8000": n for i, n in enumerate(counts)}

    def count(self, address: str) -> int:
        return self._counts.get(address, 0)


@pytest.mark.parametrize(
    ("counts", "idle", "max_busy", "expected"),
    [
        pytest.param([0, 2, 4], 0, 1.0, [1.0, 0.5, 0.0], id="idle-1-busy-scaled-by-max"),
        pytest.param([0, 0], 0, 1.0, [1.0, 1.0], id="all-idle"),
        pytest.param([3, 3], 0, 1.0, [0.0, 0.0], id="equally-busy-score-0"),
        pytest.param([1, 2, 4], 1, 1.0, [1.0, 0.5, 0.0], id="idle-threshold"),
        pytest.param([0, 2, 4], 0, 0.5, [1.0, 0.25, 0.0], id="max-busy-score-gap"),
    ],
)
def test_active_request_scorer(
    counts: list[int], idle: int, max_busy: float, expected: list[float]
) -> None:
    scorer = ActiveRequestScorer(Counts(counts), idle_threshold=idle, max_busy_score=max_busy)
    assert scores_of(scorer.score(REQUEST, endpoints(*[None] * len(counts)))) == expected


def test_prefix_cache_without_an_index_scores_nothing() -> None:
    scorer = PrefixCacheScorer(PrefixCacheParameters())
    assert scorer.score(REQUEST, endpoints(queued(0), None)) == {}  # missing = 0


def test_prefix_cache_parameters_have_upstream_defaults() -> None:
    params = PrefixCacheParameters()
    assert isinstance(params, PluginParameters)
    assert params.model_dump(by_alias=True) == {
        "autoTune": True,
        "blockSize": 64,
        "maxPrefixBlocksToMatch": 256,
        "lruCapacityPerServer": 31250,
    }
