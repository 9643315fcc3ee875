"""``inference_objective_request_error_total`` counts with upstream's error codes, and
the request-duration histogram has upstream's buckets (up to an hour), so dashboards
built for the upstream EPP read gie's the same."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from gie.bus import EVENTS
from gie_picker.requestcontrol.director import RoutingDecision
from gie_picker.requestcontrol.request import InferenceRequest, InvalidHeaderError, RequestError
from gie_picker.telemetry.metrics import PickerMetrics
from tests.support.memory_director import memory_director

POOL = "test/error-metrics"
A = "10.0.0.1:8000"
ERRORS = "inference_objective_request_error_total"


def request() -> InferenceRequest:
    return InferenceRequest("r-1", "/v1/completions", "m", "m-v2", b"{}", prompt="hi")


def error_count(registry: CollectorRegistry, code: str) -> float | None:
    labels = {"model_name": "m", "target_model_name": "m-v2", "error_code": code}
    return registry.get_sample_value(ERRORS, labels)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "BadRequest"),
        (413, "BadRequest"),
        (429, "InferencePoolResourceExhausted"),
        (500, "Internal"),
        (503, "ServiceUnavailable"),
    ],
)
async def test_a_request_the_picker_answers_counts_under_upstreams_code(
    status: int, code: str
) -> None:
    parts = memory_director(POOL, A)
    registry = CollectorRegistry()
    parts.director.metrics = PickerMetrics(registry)
    parts.director.rejected(request(), RequestError(status, "no"))
    await parts.publisher.close()
    assert error_count(registry, code) == 1
    assert error_count(registry, str(status)) is None


async def test_an_error_from_the_model_server_is_a_model_server_error() -> None:
    parts = memory_director(POOL, A)
    registry = CollectorRegistry()
    parts.director.metrics = PickerMetrics(registry)
    decision = RoutingDecision(request(), (A,))
    parts.director.metrics.for_model("m", "m-v2").running.inc()
    parts.director.completed(decision, served=A, status=502, usage=None, duration_s=1800.0)
    await parts.publisher.close()
    assert error_count(registry, "ModelServerError") == 1
    duration = "inference_objective_request_duration_seconds_bucket"
    labels = {"model_name": "m", "target_model_name": "m-v2"}
    # A half-hour request lands in a real bucket, not only in +Inf.
    assert registry.get_sample_value(duration, {**labels, "le": "1200.0"}) == 0
    assert registry.get_sample_value(duration, {**labels, "le": "1800.0"}) == 1


async def test_model_labels_are_capped_and_the_rest_counted_under_other() -> None:
    """Clients choose model names: past the cap, /metrics stops growing with them."""
    parts = memory_director(POOL, A)
    registry = CollectorRegistry()
    metrics = parts.director.metrics = PickerMetrics(registry)
    metrics.max_model_labels = 2
    decisions = []
    for n in range(5):
        named = InferenceRequest(f"r-{n}", "/v1/completions", f"m{n}", f"m{n}", b"{}", prompt="x")
        decisions.append(await parts.director.route(named, subset=None, objective=""))
    await parts.publisher.close()
    requests = "inference_objective_request_total"
    for n in (0, 1):
        labels = {"model_name": f"m{n}", "target_model_name": f"m{n}"}
        assert registry.get_sample_value(requests, labels) == 1
    assert (
        registry.get_sample_value(requests, {"model_name": "m2", "target_model_name": "m2"}) is None
    )
    other = {"model_name": "(other)", "target_model_name": "(other)"}
    assert registry.get_sample_value(requests, other) == 3
    assert registry.get_sample_value("gie_picker_model_labels_folded_total") == 3
    running = "inference_objective_running_requests"
    assert registry.get_sample_value(running, {"model_name": "(other)"}) == 3
    for decision in decisions[2:]:  # the same labels go down as went up
        parts.director.completed(decision, served=A, status=200, usage=None, duration_s=1.0)
    assert registry.get_sample_value(running, {"model_name": "(other)"}) == 0


@pytest.mark.parametrize(
    ("request_id", "message"),
    [("r" * 1500, "longer than 256 characters"), ("a\nb", "control characters")],
    ids=["too-long", "control-character"],
)
async def test_an_unusable_request_id_is_refused_without_flow_control_too(
    request_id: str, message: str
) -> None:
    """The id keys the request's in-flight count and its completion record (which the
    reader refuses beyond 1024 characters): routed, it would count as in flight for the
    in-flight TTL. Refused, nothing is counted."""
    parts = memory_director(POOL, A)
    odd = InferenceRequest(request_id, "/v1/completions", "m", "m", b"{}", prompt="x")
    with pytest.raises(InvalidHeaderError, match=message) as caught:
        await parts.director.route(odd, subset=None, objective="")
    await parts.publisher.close()
    assert (caught.value.status, caught.value.header) == (400, "x-request-id")
    assert parts.bus.stored(EVENTS) == []  # no RequestRouted
    assert parts.state.inflight.count(A) == 0
