"""Warm start for the prefix index: load the latest snapshot, write new ones.

Any replica may write the pool's snapshot (the content is the same on every
replica for the same stream position; the newest write wins); in a multi-worker
picker only the first worker writes (the others hold the same index). A replica
that starts loads it and follows routing events from the sequence after it, so
it does not have to replay the whole history.

Writing keeps the event loop free: the index of one instant is copied on the
loop a slice of hashes at a time (other tasks run in between; an endpoint about
to change is copied first), then serialised and compressed in a worker thread.
"""

from __future__ import annotations

import asyncio

import structlog

from gie.bus import Following, GieBusError, SnapshotStore
from gie.events.subjects import escape_token
from gie.prefix import (
    EndpointEntries,
    PrefixIndex,
    PrefixSnapshot,
    SnapshotError,
    decode_snapshot,
    encode_entries,
)
from gie_picker.prefixcache.state import PrefixCacheState

_log = structlog.get_logger("gie.picker")


def snapshot_name(pool: str) -> str:
    return f"prefix-index.{escape_token(pool)}"


async def load_snapshot(store: SnapshotStore, pool: str) -> PrefixSnapshot | None:
    """The pool's latest snapshot; None when there is none or it cannot be used."""
    try:
        data = await store.get(snapshot_name(pool))
    except GieBusError as exc:
        _log.warning("prefix snapshot unavailable; replaying recent routing", error=str(exc))
        return None
    if data is None:
        return None
    try:
        snapshot = decode_snapshot(data, pool=pool)
    except SnapshotError as exc:
        _log.warning("prefix snapshot ignored", error=str(exc))
        return None
    _log.info(
        "prefix index loaded from snapshot",
        blocks=snapshot.index.size,
        stream_seq=snapshot.stream_seq,
    )
    return snapshot


async def write_snapshots(
    store: SnapshotStore,
    cache: PrefixCacheState,
    following: Following,
    *,
    pool: str,
    interval_s: float,
) -> None:
    """Every ``interval_s``, write the index if the stream moved since the last write."""
    written = -1
    while True:
        await asyncio.sleep(interval_s)
        position = following.position
        if position == written or not following.caught_up.is_set():
            continue
        data = await encode_off_loop(cache.index, pool=pool, stream_seq=position)
        try:
            await store.put(snapshot_name(pool), data)
        except GieBusError as exc:
            _log.warning("prefix snapshot not written", error=str(exc))
            continue
        written = position
        _log.debug("prefix snapshot written", bytes=len(data), stream_seq=position)


async def copy_index(index: PrefixIndex) -> list[EndpointEntries]:
    """The index as it is now, copied a slice at a time: other tasks (requests, event
    folds) run between slices. Call on the loop that feeds the index."""
    copy = index.start_copy()
    try:
        while True:
            if copy.step():
                break
            await asyncio.sleep(0)
    finally:
        copy.close()
    return copy.endpoints()


async def encode_off_loop(index: PrefixIndex, *, pool: str, stream_seq: int) -> bytes:
    """The snapshot of ``index`` as it is now, the loop blocked for one slice of the
    copy at a time; serialising and compressing run in a worker thread."""
    endpoints = await copy_index(index)
    return await asyncio.to_thread(encode_entries, endpoints, pool=pool, stream_seq=stream_seq)
