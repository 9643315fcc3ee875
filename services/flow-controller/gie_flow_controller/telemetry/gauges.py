"""QueueGauges: refreshes the queue gauges from the shards this replica owns."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from gie_flow_controller.state import FlowStore
from gie_flow_controller.telemetry.metrics import FlowControlMetrics


class QueueGauges:
    """Sets the queue gauges; label sets that disappeared are removed, not left stale."""

    def __init__(self, store: FlowStore, metrics: FlowControlMetrics) -> None:
        self._store = store
        self._metrics = metrics
        self._sizes: set[tuple[str, str]] = set()
        self._bands: set[str] = set()

    async def refresh(self, owned: Iterable[int]) -> None:
        owned = sorted(owned)
        sizes: dict[tuple[str, str], int] = defaultdict(int)
        band_bytes: dict[str, int] = defaultdict(int)
        for shard in owned:
            for stats in await self._store.shard_stats(shard):
                priority = str(stats.flow.priority)
                sizes[(stats.flow.fairness_id, priority)] += stats.queued
                band_bytes[priority] += stats.queued_bytes
        for labels in self._sizes - set(sizes):
            self._metrics.queue_size.remove(*labels)
        for band in self._bands - set(band_bytes):
            self._metrics.queue_bytes.remove(band)
        for labels, size in sizes.items():
            self._metrics.queue_size.labels(*labels).set(size)
        for band, size in band_bytes.items():
            self._metrics.queue_bytes.labels(band).set(size)
        self._sizes, self._bands = set(sizes), set(band_bytes)
        self._metrics.flows.set(await self._store.flow_count())
        self._metrics.owned_shards.set(len(owned))
