"""Writing the prefix snapshot leaves the event loop free and copies one instant of the
index; in a multi-worker picker only the first worker writes."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from prometheus_client import CollectorRegistry

from gie.bus import MemorySnapshotStore
from gie.prefix import PrefixIndex, decode_snapshot
from gie.view import PoolView
from gie_picker.prefixcache.snapshots import snapshot_name, write_snapshots
from gie_picker.prefixcache.state import PrefixCacheState
from gie_picker.projections.state import Projections
from gie_picker.settings import PickerSettings

if TYPE_CHECKING:
    from gie.prefix import IndexCopy

POOL = "test/prefix-snapshots"
CAPACITY = 4_000


class StubFollowing:
    """A caught-up subscription whose position the test moves."""

    def __init__(self, position: int) -> None:
        self.position = position
        self._caught_up = asyncio.Event()
        self._caught_up.set()

    @property
    def caught_up(self) -> asyncio.Event:
        return self._caught_up

    async def stop(self) -> None:
        return None


class Heartbeat:
    """A task of the loop that ticks, and folds a routed request into the index each
    tick (as the stream would), moving the stream position."""

    def __init__(self, index: PrefixIndex, following: StubFollowing) -> None:
        self.ticks = 0
        self._index = index
        self._following = following
        self._rng = random.Random(7)

    async def run(self) -> None:
        while True:
            self.ticks += 1
            endpoint = f"10.0.0.{self._rng.randrange(1, 21)}:8000"
            self._index.add(
                [self._rng.getrandbits(64) for _ in range(8)], endpoint, capacity=CAPACITY
            )
            self._following.position += 1
            await asyncio.sleep(0)


class ProbedIndex(PrefixIndex):
    """Records the heartbeat's ticks, the stream position and the index's digest when
    the snapshot writer first reads the index."""

    def __init__(self) -> None:
        super().__init__()
        self.heartbeat: Heartbeat | None = None
        self.following: StubFollowing | None = None
        self.first_read: tuple[int, int, str] | None = None

    def _read(self) -> None:
        if self.first_read is not None or self.heartbeat is None or self.following is None:
            return
        self.first_read = (self.heartbeat.ticks, self.following.position, "")
        self.first_read = (self.heartbeat.ticks, self.following.position, self.digest())

    @property
    def size(self) -> int:
        self._read()
        return super().size

    def endpoints(self) -> list[str]:
        self._read()
        return super().endpoints()

    def entries(self, endpoint: str) -> list[int]:
        self._read()
        return super().entries(endpoint)

    def start_copy(self, **options: int) -> IndexCopy:
        self._read()
        return super().start_copy(**options)


class RecordingStore(MemorySnapshotStore):
    def __init__(self, heartbeat: Heartbeat | None = None) -> None:
        super().__init__()
        self.heartbeat = heartbeat
        self.ticks_at_put: list[int] = []
        self.written = asyncio.Event()

    async def put(self, name: str, data: bytes) -> None:
        self.ticks_at_put.append(self.heartbeat.ticks if self.heartbeat else 0)
        await super().put(name, data)
        self.written.set()


def filled_index() -> ProbedIndex:
    rng = random.Random(1)
    index = ProbedIndex()
    for n in range(1, 21):
        index.add(
            [rng.getrandbits(64) for _ in range(CAPACITY)], f"10.0.0.{n}:8000", capacity=CAPACITY
        )
    return index


async def test_the_loop_keeps_running_while_a_large_snapshot_is_written() -> None:
    index = filled_index()
    cache = PrefixCacheState(PoolView(POOL))
    cache.index = index
    following = StubFollowing(position=100)
    heartbeat = Heartbeat(index, following)
    index.heartbeat, index.following = heartbeat, following
    store = RecordingStore(heartbeat)
    tasks = [
        asyncio.create_task(heartbeat.run()),
        asyncio.create_task(write_snapshots(store, cache, following, pool=POOL, interval_s=0.01)),
    ]
    try:
        await asyncio.wait_for(store.written.wait(), 60)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert index.first_read is not None
    ticks_at_start, position_at_start, digest_at_start = index.first_read
    # The heartbeat ran (and changed the index) between the start of the write and the put.
    assert store.ticks_at_put[0] > ticks_at_start
    assert index.digest() != digest_at_start
    # The snapshot is the index as it was when the write began, with that position.
    snapshot = decode_snapshot(store.objects[snapshot_name(POOL)], pool=POOL)
    assert snapshot.stream_seq == position_at_start
    assert snapshot.index.digest() == digest_at_start


def settings(worker_index: int) -> PickerSettings:
    return PickerSettings.model_validate(
        {"pool": POOL, "worker_index": worker_index, "prefix_snapshot_interval_s": 0.01}
    )


@pytest.mark.parametrize(("worker_index", "writes"), [(0, True), (1, False), (3, False)])
async def test_only_the_first_worker_of_a_picker_writes_snapshots(
    worker_index: int, writes: bool
) -> None:
    config = settings(worker_index)
    projections = Projections.create(config, CollectorRegistry())
    projections.prefix_cache.index.add([1, 2, 3], "10.0.0.1:8000", capacity=10)
    projections.followings["routing"] = StubFollowing(position=5)
    store = RecordingStore()
    tasks = projections.background_tasks(store, config, lambda: datetime.now(UTC))
    try:
        if writes:
            await asyncio.wait_for(store.written.wait(), 10)
        else:
            await asyncio.sleep(0.3)  # thirty snapshot periods
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert bool(store.objects) is writes
