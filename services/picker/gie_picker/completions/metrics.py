"""Counters of the completion records a picker process receives."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from gie.telemetry.loop_metrics import LoopCounter, LoopGauge


class RecordMetrics:
    """Updated on the event loop only, like every picker metric."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.records = LoopCounter(
            "gie_picker_completion_records_total",
            "Gateway access-log records received, by outcome (completed: a routed "
            "request ended; unrouted: no picker routed it; invalid: unreadable; "
            "intermediate: a periodic record of a request still going, skipped).",
            ["outcome"],
            registry=registry,
        )
        self.batches = LoopCounter(
            "gie_picker_completion_record_batches_total",
            "Messages of gateway access-log records received (each holds a batch).",
            registry=registry,
        )
        self.streams = LoopGauge(
            "gie_picker_completion_record_streams",
            "Gateway access-log streams open to this process.",
            registry=registry,
        )
        self.streams_lost = LoopCounter(
            "gie_picker_completion_record_streams_lost_total",
            "Gateway access-log streams that ended while the picker was serving (records "
            "the gateway held then are lost; in-flight counts recover at GIE_INFLIGHT_TTL_S).",
            registry=registry,
        )
        self.completed = self.records.labels("completed")
        self.unrouted = self.records.labels("unrouted")
        self.invalid = self.records.labels("invalid")
        self.intermediate = self.records.labels("intermediate")
