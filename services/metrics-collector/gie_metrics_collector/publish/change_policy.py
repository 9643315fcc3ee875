"""When a scrape is worth an event: a real change, a threshold crossing, or a heartbeat.

Idle endpoints then cost one event per heartbeat instead of one per scrape. The heartbeat
also keeps consumers' copies fresh: a picker judges staleness by ``scraped_at``, so the
heartbeat must stay below ``metricsStalenessThreshold`` (the collector's default is half
of it). Prefix-cache counters ride along on published events but never trigger one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from gie.events import EndpointMetrics
from gie.saturation import SaturationConfig

__all__ = ["ChangePolicy", "PublishReason"]


class PublishReason(StrEnum):
    FIRST = "first"  # nothing published yet for this endpoint (by this replica)
    THRESHOLD = "threshold"  # crossed a saturation threshold: capacity changed
    CHANGED = "changed"  # moved by at least the configured delta
    HEARTBEAT = "heartbeat"  # unchanged, but the last event is getting old


@dataclass(frozen=True, slots=True)
class ChangePolicy:
    """``heartbeat_s`` is the gap between events of an unchanged endpoint: the scrape
    nearest to it publishes (scrapes come every ``scrape_interval_s``), so gaps stay
    within half a scrape interval of it instead of drifting a whole interval late."""

    heartbeat_s: float
    scrape_interval_s: float = 0.0
    kv_delta: float = 0.01
    count_delta: int = 1
    saturation: SaturationConfig = field(default_factory=SaturationConfig)

    def decide(
        self, last: EndpointMetrics | None, current: EndpointMetrics, *, since_s: float
    ) -> PublishReason | None:
        """Why ``current`` should be published, ``since_s`` after ``last`` was; None: skip."""
        if last is None:
            return PublishReason.FIRST
        if self._crossed(last, current):
            return PublishReason.THRESHOLD
        if self._changed(last, current):
            return PublishReason.CHANGED
        if since_s >= self.heartbeat_s - self.scrape_interval_s / 2:
            return PublishReason.HEARTBEAT
        return None

    def _crossed(self, last: EndpointMetrics, current: EndpointMetrics) -> bool:
        queue, kv = self.saturation.queue_depth_threshold, self.saturation.kv_cache_util_threshold
        return (last.waiting_queue_size <= queue) != (current.waiting_queue_size <= queue) or (
            last.kv_cache_usage <= kv
        ) != (current.kv_cache_usage <= kv)

    def _changed(self, last: EndpointMetrics, current: EndpointMetrics) -> bool:
        return (
            abs(current.waiting_queue_size - last.waiting_queue_size) >= self.count_delta
            or abs(current.running_requests - last.running_requests) >= self.count_delta
            or abs(current.kv_cache_usage - last.kv_cache_usage) >= self.kv_delta
            or current.lora_running != last.lora_running
            or current.lora_waiting != last.lora_waiting
            or current.max_lora != last.max_lora
            or current.kv_block_size != last.kv_block_size
            or current.kv_num_blocks != last.kv_num_blocks
        )
