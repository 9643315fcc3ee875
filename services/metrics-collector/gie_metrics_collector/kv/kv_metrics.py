"""The collector's counters about KV-event streams."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

__all__ = ["KvMetrics"]


class KvMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.batches = Counter(
            "gie_collector_kv_batches",
            "KV-event batches applied (live or replayed), over all endpoints.",
            registry=registry,
        )
        self.skipped = Counter(
            "gie_collector_kv_skipped_events",
            "Engine events not republished, by reason (unknown_parent, unmapped_removal, "
            "unknown_event, other_medium: about a cache tier other than the GPU, such as "
            "vLLM's CPU offloading).",
            ["reason"],
            registry=registry,
        )
        self.bad_messages = Counter(
            "gie_collector_kv_bad_messages",
            "KV-event messages that could not be read (wrong frames, bad payload).",
            registry=registry,
        )
        self.restated = Counter(
            "gie_collector_kv_restated",
            "Times an endpoint's whole cache state was published again (KvCacheCleared "
            "resync, then every block held) after some of its events could not be.",
            registry=registry,
        )
        self.bad_addresses = Counter(
            "gie_collector_kv_bad_addresses",
            "Malformed KV-event socket addresses (endpoint labels), by socket: events (the "
            "endpoint is then followed without KV events, its precise state unknown) or "
            "replay (followed without replay). Counted when its follower starts.",
            ["socket"],
            registry=registry,
        )
        self.gaps = Counter(
            "gie_collector_kv_gaps",
            "Sequence gaps, by outcome: filled by replay, or unfilled (state unknown).",
            ["outcome"],
            registry=registry,
        )
        self.restarts = Counter(
            "gie_collector_kv_restarts",
            "Server restarts seen (sequence back to an earlier number).",
            registry=registry,
        )
        self.publish_errors = Counter(
            "gie_collector_kv_publish_errors",
            "Kv* events the bus did not take.",
            registry=registry,
        )
