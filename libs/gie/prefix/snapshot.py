"""Prefix index snapshots: the index plus the stream sequence it reflects.

Format (version 1): zlib-compressed JSON ``{"version", "pool", "stream_seq",
"endpoints": [{"address", "capacity", "hashes": [... LRU order ...]}]}``. Only
the most recent ``max_blocks`` hashes per endpoint in total are kept (the
oldest entries of each endpoint are dropped first, proportionally), which
bounds the snapshot's size; a truncated snapshot is still a valid index.

:func:`encode_entries` encodes a finished :class:`~gie.prefix.index.IndexCopy`'s
endpoints and touches nothing else, so it may run in a worker thread: it
serialises one endpoint at a time and compresses as it goes (zlib lets go of the
GIL while it compresses), so the event loop's thread gets the GIL back between
pieces. The bytes are those :func:`encode_snapshot` makes from the same content.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from gie.prefix.index import EndpointEntries, PrefixIndex

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
    """The snapshot of ``index`` as it is now, in one go (see :func:`encode_entries`
    to do the expensive part off the index's thread)."""
    endpoints = index.start_copy().finish()
    return encode_entries(endpoints, pool=pool, stream_seq=stream_seq, max_blocks=max_blocks)


def encode_entries(
    endpoints: Sequence[EndpointEntries],
    *,
    pool: str,
    stream_seq: int,
    max_blocks: int = DEFAULT_MAX_BLOCKS,
) -> bytes:
    """The snapshot of a copied index (endpoints by address). Safe in any thread."""
    total = sum(len(endpoint.hashes) for endpoint in endpoints)
    keep = 1.0 if total <= max_blocks else max_blocks / total
    compressor = zlib.compressobj(level=1)
    # orjson.dumps of the whole document, a piece at a time: the same bytes.
    head = b'{"version":%d,"pool":%s,"stream_seq":%d,"endpoints":[' % (
        VERSION,
        orjson.dumps(pool),
        stream_seq,
    )
    parts = [compressor.compress(head)]
    for n, endpoint in enumerate(endpoints):
        hashes = endpoint.hashes
        kept = hashes[len(hashes) - int(len(hashes) * keep) :] if keep < 1.0 else hashes
        piece = orjson.dumps(
            {"address": endpoint.address, "capacity": endpoint.capacity, "hashes": kept}
        )
        parts.append(compressor.compress(b"," + piece if n else piece))
    parts.append(compressor.compress(b"]}"))
    parts.append(compressor.flush())
    return b"".join(parts)


# A snapshot holds at most 2,000,000 hashes (about 45 MB of JSON); anything expanding
# past this is not one of ours (a compressed "bomb" would otherwise fill the memory).
MAX_SNAPSHOT_JSON_BYTES = 256 * 1024 * 1024


def decode_snapshot(
    data: bytes, *, pool: str, max_json_bytes: int = MAX_SNAPSHOT_JSON_BYTES
) -> PrefixSnapshot:
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(data, max_json_bytes)
        if inflater.unconsumed_tail:
            raise SnapshotError(f"prefix snapshot expands beyond {max_json_bytes} bytes")
        if not inflater.eof:
            raise SnapshotError("prefix snapshot is corrupt: truncated")
        document = orjson.loads(text)
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
