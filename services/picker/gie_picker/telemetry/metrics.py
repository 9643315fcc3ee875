"""The picker's Prometheus metrics, with upstream's names (REFERENCE §7)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from gie.saturation import SaturationConfig, pool_saturation
from gie.telemetry.loop_metrics import (
    CounterChild,
    GaugeChild,
    HistogramChild,
    LoopCounter,
    LoopGauge,
    LoopHistogram,
)
from gie.view import PoolView

_MODEL = ["model_name", "target_model_name"]
# Distinct (model, target model) label pairs; requests naming others are counted under
# OTHER_MODEL (clients choose the names: without a cap, /metrics would grow with them).
MAX_MODEL_LABELS = 500
OTHER_MODEL = "(other)"
# Upstream's buckets, so dashboards built for its EPP read ours the same.
_DURATION_BUCKETS = (0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6,
                     8, 10, 15, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200,
                     1800, 2700, 3600)  # fmt: skip
# 32778, not 32768: upstream's list has it so, and a bucket bound is part of the series.
_INPUT_TOKEN_BUCKETS = (1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384,
                        32778, 65536, 131072, 262144, 524288, 1048576)  # fmt: skip
_OUTPUT_TOKEN_BUCKETS = (1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)

# ``error_code`` values of inference_objective_request_error_total, as upstream names them.
_PICKER_ERROR_CODES = {
    400: "BadRequest",
    413: "BadRequest",
    429: "InferencePoolResourceExhausted",
    500: "Internal",
    503: "ServiceUnavailable",
}
MODEL_SERVER_ERROR = "ModelServerError"


def picker_error_code(status: int) -> str:
    """The ``error_code`` of a request the picker answered itself with ``status``."""
    return _PICKER_ERROR_CODES.get(status, "Unknown")


@dataclass(frozen=True, slots=True)
class ModelMetrics:
    """The children of the per-model metrics for one (model, target model) pair."""

    requests: CounterChild
    labels: tuple[str, str]  # (model_name, target_model_name) as counted
    running: GaugeChild
    duration: HistogramChild
    input_tokens: HistogramChild
    output_tokens: HistogramChild


class PickerMetrics:
    """Request-level metrics; one instance per process registry.

    Updated on the event loop only (lock-free, :mod:`gie.telemetry.loop_metrics`).
    ``for_model`` and ``routed_to`` hand out labelled children looked up once.
    """

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.requests = LoopCounter(
            "inference_objective_request_total", "Requests received.", _MODEL, registry=registry
        )
        self.errors = LoopCounter(
            "inference_objective_request_error_total",
            "Requests that failed, by error code (upstream's: BadRequest, "
            "InferencePoolResourceExhausted, ServiceUnavailable, Internal, ModelServerError).",
            [*_MODEL, "error_code"],
            registry=registry,
        )
        self.duration = LoopHistogram(
            "inference_objective_request_duration_seconds",
            "Time from routing to the end of the response.",
            _MODEL,
            buckets=_DURATION_BUCKETS,
            registry=registry,
        )
        self.input_tokens = LoopHistogram(
            "inference_objective_input_tokens",
            "Prompt tokens per request.",
            _MODEL,
            buckets=_INPUT_TOKEN_BUCKETS,
            registry=registry,
        )
        self.output_tokens = LoopHistogram(
            "inference_objective_output_tokens",
            "Completion tokens per request.",
            _MODEL,
            buckets=_OUTPUT_TOKEN_BUCKETS,
            registry=registry,
        )
        self.running = LoopGauge(
            "inference_objective_running_requests",
            "Requests routed by this process and not finished.",
            ["model_name"],
            registry=registry,
        )
        self.routed = LoopCounter(
            "gie_picker_requests_routed_total",
            "Requests routed, by destination endpoint.",
            ["endpoint"],
            registry=registry,
        )
        self.stale_fallback = LoopCounter(
            "gie_picker_stale_fallback_total",
            "Admission decisions taken from requests in flight because every endpoint's "
            "metrics were stale.",
            registry=registry,
        )
        self.rejected = LoopCounter(
            "gie_picker_requests_rejected_total",
            "Requests answered by the picker itself, by HTTP status.",
            ["status"],
            registry=registry,
        )
        self.invalid_headers = LoopCounter(
            "gie_picker_invalid_headers_total",
            "Requests answered 400 because a request header's value is unusable, by header.",
            ["header"],
            registry=registry,
        )
        self.folded_models = LoopCounter(
            "gie_picker_model_labels_folded_total",
            f"Requests counted under model_name {OTHER_MODEL!r} because "
            f"{MAX_MODEL_LABELS} other model label pairs were in use.",
            registry=registry,
        )
        self.max_model_labels = MAX_MODEL_LABELS
        self._models: dict[tuple[str, str], ModelMetrics] = {}
        self._routed: dict[str, CounterChild] = {}

    def model_labels(self, model: str, target_model: str) -> tuple[str, str]:
        """The label pair for a request's models: themselves, or (OTHER_MODEL,
        OTHER_MODEL) once MAX_MODEL_LABELS other pairs have been seen (a pair keeps the
        answer it first got, so a gauge goes up and down under the same labels)."""
        key = (model, target_model)
        if key in self._models or len(self._models) < self.max_model_labels:
            return key
        return (OTHER_MODEL, OTHER_MODEL)

    def received(self, model: str, target_model: str) -> None:
        """Count a request (under OTHER_MODEL, and in folded_models, past the cap)."""
        children = self.for_model(model, target_model)
        children.requests.inc()
        if children.labels != (model, target_model):
            self.folded_models.inc()

    def for_model(self, model: str, target_model: str) -> ModelMetrics:
        key = self.model_labels(model, target_model)
        children = self._models.get(key)
        if children is None:
            children = self._models[key] = ModelMetrics(
                labels=key,
                requests=self.requests.labels(*key),
                running=self.running.labels(key[0]),
                duration=self.duration.labels(*key),
                input_tokens=self.input_tokens.labels(*key),
                output_tokens=self.output_tokens.labels(*key),
            )
        return children

    def routed_to(self, endpoint: str) -> CounterChild:
        counter = self._routed.get(endpoint)
        if counter is None:
            counter = self._routed[endpoint] = self.routed.labels(endpoint)
        return counter


class PoolCollector(Collector):
    """Pool-level gauges computed from the view at scrape time.

    MUST be collected on the loop that feeds the view (the admin app's ``/metrics``
    is): ``PoolView.endpoints()`` fills a cache that ``apply`` clears.
    """

    def __init__(
        self, view: PoolView, config: SaturationConfig, now: Callable[[], datetime]
    ) -> None:
        self._view = view
        self._config = config
        self._now = now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        name = self._view.pool
        states = self._view.endpoints()
        scraped = [s.metrics for s in states if s.metrics is not None]
        kv = GaugeMetricFamily(
            "inference_pool_average_kv_cache_utilization",
            "Mean KV-cache utilisation of the pool's endpoints.",
            labels=["name"],
        )
        queue = GaugeMetricFamily(
            "inference_pool_average_queue_size",
            "Mean waiting-queue length of the pool's endpoints.",
            labels=["name"],
        )
        ready = GaugeMetricFamily(
            "inference_pool_ready_pods", "Endpoints in the pool.", labels=["name"]
        )
        per_pod = GaugeMetricFamily(
            "inference_pool_per_pod_queue_size",
            "Waiting-queue length per endpoint.",
            labels=["name", "model_server_pod"],
        )
        saturated = GaugeMetricFamily(
            "gie_pool_saturated", "1 while no endpoint has capacity.", labels=["name"]
        )
        if scraped:
            kv.add_metric([name], sum(m.kv_cache_usage for m in scraped) / len(scraped))
            queue.add_metric([name], sum(m.waiting_queue_size for m in scraped) / len(scraped))
        ready.add_metric([name], len(states))
        for state in states:
            if state.metrics is not None:
                per_pod.add_metric([name, state.address], state.metrics.waiting_queue_size)
        result = pool_saturation(states, now=self._now(), config=self._config)
        saturated.add_metric([name], 1.0 if result.saturated else 0.0)
        yield from (kv, queue, ready, per_pod, saturated)
