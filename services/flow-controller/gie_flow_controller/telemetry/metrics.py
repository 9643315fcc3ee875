"""Prometheus metrics of the flow-controller: upstream's names, then gie's own.

Queue gauges count the requests queued on the shards this replica owns, so the sum over
replicas is the pool's queue; ``gie_flow_control_flows`` is pool-wide (every replica
reports the same value).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from gie.flowcontrol import Outcome

QUEUE_DURATION_BUCKETS = (
    0.0001,
    0.0005,
    0.001,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)


class FlowControlMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.queue_duration = Histogram(
            "inference_extension_flow_control_request_queue_duration_seconds",
            "Time from the start of an Admit call until its outcome.",
            ["fairness_id", "priority", "outcome"],
            buckets=QUEUE_DURATION_BUCKETS,
            registry=registry,
        )
        self.queue_size = Gauge(
            "inference_extension_flow_control_queue_size",
            "Requests queued on the shards this replica owns.",
            ["fairness_id", "priority"],
            registry=registry,
        )
        self.queue_bytes = Gauge(
            "gie_flow_control_queue_bytes",
            "Bytes queued per priority band on the shards this replica owns.",
            ["priority"],
            registry=registry,
        )
        self.flows = Gauge(
            "gie_flow_control_flows",
            "Flows alive in the pool (busy, or idle and not yet collected).",
            registry=registry,
        )
        self.outcomes = Counter(
            "gie_flow_control_outcomes_total",
            "Outcomes decided by this replica.",
            ["priority", "outcome", "reason"],
            registry=registry,
        )
        self.owned_shards = Gauge(
            "gie_flow_control_owned_shards",
            "Shards whose lease this replica holds.",
            registry=registry,
        )
        self.notices_malformed = Counter(
            "gie_flow_control_notices_malformed_total",
            "Pub/sub notices skipped because their payload could not be read, by channel "
            "(outcomes, wake).",
            ["channel"],
            registry=registry,
        )
        self.task_restarts = Counter(
            "gie_flow_control_task_restarts_total",
            "Long-lived tasks of this replica started again after they failed, by task.",
            ["task"],
            registry=registry,
        )
        self.cancel_failures = Counter(
            "gie_flow_control_cancel_failures_total",
            "Calls cancelled by their caller whose request could not be cancelled in the "
            "flow state (it stays queued until dispatched or evicted by its TTL).",
            registry=registry,
        )

        self.admit_errors = Counter(
            "gie_flow_control_admit_errors_total",
            "Admit calls ended without an outcome, by reason: store-unavailable (Redis "
            "unreachable at admission; the call fails at once), state-lost (a queued request "
            "Redis no longer knows, after a restart), no-outcome-by-ttl (the TTL passed "
            "while the outcome could not be read).",
            ["reason"],
            registry=registry,
        )

    def count_admit_error(self, reason: str) -> None:
        self.admit_errors.labels(reason).inc()

    def observe_call(
        self, fairness_id: str, priority: int, outcome: Outcome, seconds: float
    ) -> None:
        self.queue_duration.labels(fairness_id, str(priority), outcome.value).observe(seconds)

    def count_outcome(self, priority: int, outcome: Outcome, reason: str) -> None:
        self.outcomes.labels(str(priority), outcome.value, reason).inc()

    def count_malformed_notice(self, channel: str) -> None:
        self.notices_malformed.labels(channel).inc()

    def count_restart(self, task: str) -> None:
        self.task_restarts.labels(task).inc()
