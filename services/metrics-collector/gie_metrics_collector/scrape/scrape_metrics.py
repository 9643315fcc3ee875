"""Prometheus metrics of the scrape loops."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["ScrapeMetrics"]

_DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ScrapeMetrics:
    """Counters and timings shared by every scrape loop of one collector."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.scrapes = Counter(
            "gie_collector_scrapes_total",
            "Scrapes of model-server metrics pages, by outcome (ok, error).",
            ["outcome"],
            registry=registry,
        )
        self.errors = Counter(
            "gie_collector_scrape_errors_total",
            "Failed scrapes by reason: unreachable, timeout, http_status, oversized, "
            "bad_response, garbage, truncated, non_finite, missing_signal, internal.",
            ["reason"],
            registry=registry,
        )
        self.duration = Histogram(
            "gie_collector_scrape_duration_seconds",
            "Time from sending the request to having the page's values.",
            buckets=_DURATION_BUCKETS,
            registry=registry,
        )
        self.ok = self.scrapes.labels("ok")
        self.error = self.scrapes.labels("error")
