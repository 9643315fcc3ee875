"""The picker replays and follows the pool's KV events into its precise index."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from gie.bus import MemoryEventBus, MemorySnapshotStore
from gie.events import KvBlocksStored, KvCacheCleared
from gie.events.hashes import pack_hashes
from gie.events.subjects import kv_subject
from gie_picker.projections.state import Projections
from gie_picker.settings import PickerSettings

POOL = "unit/kv-projection"
A = "10.0.0.1:8000"


def stored(seq: int, keys: list[int]) -> KvBlocksStored:
    return KvBlocksStored(
        source="c",
        pool=POOL,
        address=A,
        epoch="run-1",
        seq=seq,
        block_size=16,
        block_keys=pack_hashes(keys),
    )


async def test_stored_events_replayed_then_followed() -> None:
    bus = MemoryEventBus()
    start = KvCacheCleared(source="c", pool=POOL, address=A, epoch="run-1", seq=-1, reason="start")
    await bus.publish(kv_subject(POOL, A), start)
    await bus.publish(kv_subject(POOL, A), stored(0, [1, 2]))
    settings = PickerSettings(pool=POOL, prefix_snapshot_interval_s=0)
    projections = Projections.create(settings, CollectorRegistry())
    await projections.follow(
        bus, MemorySnapshotStore(), settings, lambda: datetime.now(UTC), flow_control=False
    )
    try:
        await projections.followings["kv events"].caught_up.wait()
        cache = projections.prefix_cache
        assert cache.precise_known(A)
        assert cache.precise_match([1, 2, 3], [A]) == {A: 2}
        await bus.publish(kv_subject(POOL, A), stored(1, [3]))
        await bus.publish(kv_subject(POOL, A), stored(0, [9]))  # an older batch: ignored
        await bus.publish(kv_subject(POOL, A), stored(2, [4]))
        for _ in range(100):
            if cache.precise_match([1, 2, 3, 4], [A]) == {A: 4}:
                break
            await asyncio.sleep(0.01)
        assert cache.precise_match([1, 2, 3, 4], [A]) == {A: 4}
        assert cache.precise_match([9], [A]) == {A: 0}
        assert projections.not_caught_up() is None
    finally:
        await projections.stop()
        await bus.close()
