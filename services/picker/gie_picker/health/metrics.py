"""Counters and gauges of endpoint ejections."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from gie.telemetry.loop_metrics import LoopCounter, LoopGauge

REASONS = ("connect_failure", "reset", "http_5xx", "retried", "scrape")


class HealthMetrics:
    """Updated on the event loop only, like every picker metric."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.ejections = LoopCounter(
            "gie_picker_endpoint_ejections_total",
            "Endpoints left out of scheduling, by reason (connect_failure, reset, "
            "http_5xx: a completion record of the endpoint; retried: the gateway tried "
            "it and moved on to a fallback; scrape: its metrics stopped arriving).",
            ["reason"],
            registry=registry,
        )
        self.returns = LoopCounter(
            "gie_picker_endpoint_returns_total",
            "Endpoints taken back into scheduling after an ejection ended or their "
            "scrapes resumed.",
            registry=registry,
        )
        self.left_out = LoopGauge(
            "gie_picker_endpoints_left_out",
            "Endpoints the last routing decision left out as failed.",
            registry=registry,
        )
        self.all_left_out = LoopCounter(
            "gie_picker_all_endpoints_failed_total",
            "Routing decisions for which every candidate was judged failed, and all of "
            "them were used anyway.",
            registry=registry,
        )
        self.by_reason = {reason: self.ejections.labels(reason) for reason in REASONS}
