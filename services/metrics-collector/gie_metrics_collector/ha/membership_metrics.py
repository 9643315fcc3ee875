"""Prometheus metrics of the NATS KV membership."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

__all__ = ["MembershipMetrics"]


class MembershipMetrics:
    """What an operator of collector replicas should know about their membership."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.malformed_keys = Counter(
            "gie_collector_membership_malformed_keys_total",
            "Entries of the membership bucket under this pool's prefix whose key is not "
            "<pool>.<instance> (skipped).",
            registry=registry,
        )
        self.recoveries = Counter(
            "gie_collector_membership_recoveries_total",
            "Times this replica re-created its membership watch (its own heartbeats stopped "
            "coming back: a NATS restart lost the watch, or the bucket was deleted) or the "
            "bucket itself, by what.",
            ["what"],
            registry=registry,
        )
        self.sync_timeouts = Counter(
            "gie_collector_membership_sync_timeouts_total",
            "Start-ups that went on without the bucket's current members after "
            "GIE_MEMBERSHIP_SYNC_TIMEOUT_S.",
            registry=registry,
        )
