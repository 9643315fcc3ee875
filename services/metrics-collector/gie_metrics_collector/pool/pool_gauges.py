"""Pool-level gauges with upstream's names, refreshed from the pool view.

``inference_pool_average_kv_cache_utilization``, ``inference_pool_average_queue_size``
(over endpoints with metrics, as upstream), ``inference_pool_ready_pods`` and
``inference_pool_per_pod_queue_size``, plus ``gie_pool_endpoints{state=fresh|stale}``.
Refreshed on a timer on the event loop (like upstream's
``refresh-prometheus-metrics-interval``), never from the exposition thread.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Gauge

from gie.view import PoolView
from gie.view.staleness import staleness

__all__ = ["PoolGauges"]


class PoolGauges:
    def __init__(self, view: PoolView, *, staleness_s: float, registry: CollectorRegistry) -> None:
        self._view = view
        self._staleness_s = staleness_s
        self._pods: set[str] = set()
        self._kv = Gauge(
            "inference_pool_average_kv_cache_utilization",
            "The average KV-cache utilisation of the pool's endpoints.",
            ["name"],
            registry=registry,
        )
        self._queue = Gauge(
            "inference_pool_average_queue_size",
            "The average number of requests waiting in the pool's model servers.",
            ["name"],
            registry=registry,
        )
        self._ready = Gauge(
            "inference_pool_ready_pods",
            "The number of endpoints in the pool.",
            ["name"],
            registry=registry,
        )
        self._per_pod = Gauge(
            "inference_pool_per_pod_queue_size",
            "The waiting queue of each endpoint.",
            ["name", "model_server_pod"],
            registry=registry,
        )
        self._endpoints = Gauge(
            "gie_pool_endpoints",
            "Endpoints of the pool by freshness of their metrics (fresh, stale).",
            ["name", "state"],
            registry=registry,
        )

    def refresh(self, now: datetime) -> None:
        pool = self._view.pool
        states = self._view.endpoints()
        measured = [state.metrics for state in states if state.metrics is not None]
        if measured:
            self._kv.labels(pool).set(sum(m.kv_cache_usage for m in measured) / len(measured))
            self._queue.labels(pool).set(
                sum(m.waiting_queue_size for m in measured) / len(measured)
            )
        self._ready.labels(pool).set(len(states))
        pods: set[str] = set()
        for state in states:
            if state.metrics is not None:
                pod = state.endpoint.name or state.address
                pods.add(pod)
                self._per_pod.labels(pool, pod).set(state.metrics.waiting_queue_size)
        for gone in self._pods - pods:
            self._per_pod.remove(pool, gone)
        self._pods = pods
        split = staleness(states, now=now, threshold_s=self._staleness_s)
        self._endpoints.labels(pool, "fresh").set(len(split.fresh))
        self._endpoints.labels(pool, "stale").set(len(split.stale))
