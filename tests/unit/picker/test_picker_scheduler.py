"""The scheduler: filters, weighted scores, picking, errors and latency histograms."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar

import pytest
from prometheus_client import CollectorRegistry

from gie.events import Endpoint, EndpointMetrics, RequestRouted
from gie.view import EndpointState, InFlightView
from gie_picker.config import default_config, load_text
from gie_picker.scheduling import (
    NoEndpointError,
    ProfileRunResult,
    Scheduler,
    SchedulerMetrics,
    SchedulerProfile,
    SchedulingRequest,
    ScoredEndpoint,
    WeightedScorer,
    build_scheduler,
)
from gie_picker.scheduling.scorers import QueueScorer

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POOL = "default/sim-pool"
HEADER = "test-epp-endpoint-selection"
CONFIG_HEAD = "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\n"


def state(address: str, waiting: int = 0, kv: float = 0.0) -> EndpointState:
    metrics = EndpointMetrics(waiting_queue_size=waiting, running_requests=0, kv_cache_usage=kv)
    return EndpointState(Endpoint(address=address), metrics, T0)


def request(headers: dict[str, str] | None = None) -> SchedulingRequest:
    return SchedulingRequest(request_id="r1", model="m", headers=headers or {})


class FixedScorer:
    TYPE: ClassVar[str] = "fixed"

    def __init__(self, name: str, scores: dict[str, float]) -> None:
        self.name = name
        self._scores = scores

    def score(
        self, request: SchedulingRequest, endpoints: Sequence[EndpointState]
    ) -> dict[str, float]:
        return self._scores


class RecordingPicker:
    TYPE: ClassVar[str] = "recording"
    name = "recording"

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}

    def pick(self, scored: Sequence[ScoredEndpoint]) -> ProfileRunResult:
        self.seen = {candidate.address: candidate.score for candidate in scored}
        return ProfileRunResult((scored[0].endpoint,))


class DropAll:
    TYPE: ClassVar[str] = "drop-all"

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls = 0

    def filter(
        self, request: SchedulingRequest, endpoints: Sequence[EndpointState]
    ) -> list[EndpointState]:
        self.calls += 1
        return []


def test_scores_are_clamped_then_weighted_and_summed() -> None:
    picker = RecordingPicker()
    profile = SchedulerProfile(
        "p",
        scorers=[
            WeightedScorer(FixedScorer("a", {"10.0.0.1:1": 0.5, "10.0.0.2:1": 1.5}), 2),
            WeightedScorer(FixedScorer("b", {"10.0.0.1:1": -1.0, "10.0.0.2:1": 0.2}), 3),
        ],
        picker=picker,
        metrics=SchedulerMetrics(CollectorRegistry()),
    )
    profile.run(request(), [state("10.0.0.1:1"), state("10.0.0.2:1"), state("10.0.0.3:1")])
    assert {k: round(v, 6) for k, v in picker.seen.items()} == {
        "10.0.0.1:1": 1.0,  # 0.5*2 + 0*3 (-1 clamped to 0)
        "10.0.0.2:1": 2.6,  # 1*2 (1.5 clamped to 1) + 0.2*3
        "10.0.0.3:1": 0.0,  # no scorer scored it
    }


class CountingQueueScorer(QueueScorer):
    """The built-in queue scorer (endpoints only), counting its runs."""

    def __init__(self) -> None:
        super().__init__("queue")
        self.runs = 0

    def score(
        self, request: SchedulingRequest, endpoints: Sequence[EndpointState]
    ) -> dict[str, float]:
        self.runs += 1
        return super().score(request, endpoints)


def test_endpoint_only_scores_are_reused_until_the_metrics_change() -> None:
    queue, picker = CountingQueueScorer(), RecordingPicker()
    per_request = FixedScorer("sticky", {"10.0.0.2:1": 0.5})
    profile = SchedulerProfile(
        "p",
        scorers=[WeightedScorer(queue, 1), WeightedScorer(per_request, 4)],
        picker=picker,
        metrics=SchedulerMetrics(None),
    )
    pool = [state("10.0.0.1:1", waiting=0), state("10.0.0.2:1", waiting=4)]
    for _ in range(3):
        profile.run(request(), list(pool))  # a fresh list of the same states
    assert queue.runs == 1
    assert picker.seen == {"10.0.0.1:1": 1.0, "10.0.0.2:1": 2.0}  # 0 + 0.5 * 4
    pool[0] = state("10.0.0.1:1", waiting=8)  # new metrics: the queues swap ranks
    profile.run(request(), list(pool))
    assert queue.runs == 2
    assert picker.seen == {"10.0.0.1:1": 0.0, "10.0.0.2:1": 3.0}
    profile.run(request(), pool[1:])  # other candidates (a subset): scored anew
    assert queue.runs == 3
    assert picker.seen == {"10.0.0.2:1": 3.0}


def test_filters_stop_once_nothing_is_left() -> None:
    first, second = DropAll("first"), DropAll("second")
    profile = SchedulerProfile(
        "p", filters=[first, second], picker=RecordingPicker(), metrics=SchedulerMetrics(None)
    )
    with pytest.raises(NoEndpointError, match="profile 'p': no endpoint left after the filters"):
        profile.run(request(), [state("10.0.0.1:1")])
    assert (first.calls, second.calls) == (1, 0)


def scheduler_for(
    text: str | None = None, inflight: InFlightView | None = None, seed: int = 1
) -> tuple[Scheduler, CollectorRegistry]:
    config = load_text(text) if text else default_config()
    registry = CollectorRegistry()
    scheduler = build_scheduler(
        config, registry=registry, inflight=inflight or InFlightView(POOL), rng=random.Random(seed)
    )
    return scheduler, registry


def test_default_config_routes_to_the_least_loaded_endpoint() -> None:
    scheduler, _ = scheduler_for()
    pool = [
        state("10.0.0.1:8000", 5, 0.9),
        state("10.0.0.2:8000", 0, 0.1),
        state("10.0.0.3:8000", 2, 0.5),
    ]
    result = scheduler.schedule(request(), pool)
    assert result.endpoints == ("10.0.0.2:8000",)
    assert result.primary_profile == "default"


def test_fallbacks_follow_the_primary() -> None:
    scheduler, _ = scheduler_for(
        CONFIG_HEAD
        + "plugins:\n- type: queue-scorer\n"
        + "- {type: max-score-picker, parameters: {maxNumOfEndpoints: 3}}\n"
    )
    pool = [state("10.0.0.1:8000", 9), state("10.0.0.2:8000", 0), state("10.0.0.3:8000", 4)]
    assert scheduler.schedule(request(), pool).endpoints == (
        "10.0.0.2:8000",
        "10.0.0.3:8000",
        "10.0.0.1:8000",
    )


def test_no_candidates_is_a_no_endpoint_error() -> None:
    scheduler, _ = scheduler_for()
    with pytest.raises(NoEndpointError):
        scheduler.schedule(request(), [])


def test_active_request_scorer_sees_every_replicas_routing() -> None:
    inflight = InFlightView(POOL)
    for rid in ("a", "b"):
        inflight.apply(
            RequestRouted(
                source="other-replica",
                pool=POOL,
                request_id=rid,
                model="m",
                target="10.0.0.1:8000",
                picker="other-replica",
            )
        )
    scheduler, _ = scheduler_for(
        CONFIG_HEAD + "plugins:\n- type: active-request-scorer\n", inflight
    )
    pool = [state("10.0.0.1:8000"), state("10.0.0.2:8000")]
    assert {scheduler.schedule(request(), pool).primary for _ in range(20)} == {"10.0.0.2:8000"}


def test_header_filter_in_a_profile_restricts_the_pick() -> None:
    scheduler, _ = scheduler_for(
        CONFIG_HEAD + "plugins:\n- type: header-based-testing-filter\n- type: queue-scorer\n"
    )
    pool = [state("10.0.0.1:8000", 0), state("10.0.0.2:8000", 9)]
    result = scheduler.schedule(request({HEADER: "10.0.0.2:8000"}), pool)
    assert result.endpoints == ("10.0.0.2:8000",)
    with pytest.raises(NoEndpointError):
        scheduler.schedule(request(), pool)


def test_histograms_observe_the_whole_step_and_each_plugin() -> None:
    scheduler, registry = scheduler_for()
    scheduler.schedule(request(), [state("10.0.0.1:8000"), state("10.0.0.2:8000")])
    scheduler.schedule(request(), [state("10.0.0.1:8000")])

    def count(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(f"{name}_count", labels)

    assert count("inference_extension_scheduler_e2e_duration_seconds") == 2
    plugin = "inference_extension_plugin_duration_seconds"
    for point, plugin_type in [
        ("ProfilePicker", "single-profile-handler"),
        ("Scorer", "queue-scorer"),
        ("Scorer", "kv-cache-utilization-scorer"),
        ("Scorer", "prefix-cache-scorer"),
        ("Picker", "max-score-picker"),
        ("ProcessProfilesResults", "single-profile-handler"),
    ]:
        labels = {"extension_point": point, "plugin_type": plugin_type, "plugin_name": plugin_type}
        observed = count(plugin, **labels)
        assert observed is not None and observed >= 2, labels
