"""``inference_objective_request_error_total`` counts with upstream's error codes, and
the request-duration histogram has upstream's buckets (up to an hour), so dashboards
built for the upstream EPP read gie's the same."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from gie_picker.requestcontrol.director import RoutingDecision
from gie_picker.requestcontrol.request import InferenceRequest, RequestError
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
