"""Prefix index snapshots: the index plus the stream sequence it reflects.

Format (version 1): zlib-compressed JSON ``{"version", "pool", "stream_seq",
"endpoints": [{"address", "capacity", "hashes": [... LRU order ...]}]}``. Only
the most recent ``max_blocks`` hashes per endpoint in total are kept (the
oldest entries of each endpoint are dropped first, proportionally), which
bounds the snapshot's size; a truncated snapshot is still a valid index.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import orjson

from gie.prefix.index import PrefixIndex

VERSION = 1
DEFAULT_MAX_BLOCKS = 2_000_000  # ~16 MB of hashes before compression


class SnapshotError(ValueError):
    """A snapshot cannot be read (corrupt, another version, another pool)."""


@dataclass(frozen=True, slots=True)
class PrefixSnapshot:
    index: PrefixIndex
    stream_seq: int


def encode_snapshot(
    index: PrefixIndex, *, pool: str, stream_seq: int, max_blocks: int = DEFAULT_MAX_BLOCKS
) -> bytes:
    total = index.size
    keep = 1.0 if total <= max_blocks else max_blocks / total
    endpoints = []
    for address in index.endpoints():
        entries = index.entries(address)
        kept = entries[len(entries) - int(len(entries) * keep) :] if keep < 1.0 else entries
        endpoints.append({"address": address, "capacity": index.capacity(address), "hashes": kept})
    document = {"version": VERSION, "pool": pool, "stream_seq": stream_seq, "endpoints": endpoints}
    return zlib.compress(orjson.dumps(document), level=1)


def decode_snapshot(data: bytes, *, pool: str) -> PrefixSnapshot:
    try:
        document = orjson.loads(zlib.decompress(data))
    except (zlib.error, orjson.JSONDecodeError) as exc:
        raise SnapshotError(f"prefix snapshot is corrupt: {exc}") from exc
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise SnapshotError("prefix snapshot has an unknown version")
    if document.get("pool") != pool:
        raise SnapshotError(f"prefix snapshot is for pool {document.get('pool')!r}")
    index = PrefixIndex()
    try:
        for endpoint in document["endpoints"]:
            index.add(endpoint["hashes"], endpoint["address"], capacity=endpoint["capacity"])
        return PrefixSnapshot(index, int(document["stream_seq"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"prefix snapshot is malformed: {exc}") from exc
