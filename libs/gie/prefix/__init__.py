"""The approximate prefix cache shared by every picker replica.

:func:`block_hashes` turns a prompt into chained block hashes (upstream's
scheme); :class:`PrefixIndex` remembers, per endpoint, the hashes of recent
prompts routed there. Every replica folds every replica's ``RequestRouted``
events (which carry the hashes, never text) into its own index, so all
replicas hold the same index. Every hash is keyed with the pool's secret
(:class:`PrefixKey`, :func:`load_prefix_key`). :func:`token_block_keys` is the chained key of a
block of token ids, shared by the metrics-collector and the picker's precise
prefix routing. Pure data structures: no I/O, one event loop
(a finished :class:`IndexCopy` and :func:`encode_entries` excepted: plain data,
any thread).
"""

from __future__ import annotations

from gie.prefix.hashing import block_hashes
from gie.prefix.index import (
    EndpointEntries,
    IndexCopy,
    PrefixIndex,
    entries_digest,
    leading_matches,
)
from gie.prefix.keying import PrefixKey, PrefixKeyError, load_prefix_key, report_prefix_key
from gie.prefix.precise_index import EndpointKv, PreciseIndex
from gie.prefix.snapshot import (
    PrefixSnapshot,
    SnapshotError,
    decode_snapshot,
    encode_entries,
    encode_snapshot,
)
from gie.prefix.token_keys import ROOT_KEY, root_key, token_block_keys

__all__ = [
    "ROOT_KEY",
    "EndpointEntries",
    "EndpointKv",
    "IndexCopy",
    "PreciseIndex",
    "PrefixIndex",
    "PrefixKey",
    "PrefixKeyError",
    "PrefixSnapshot",
    "SnapshotError",
    "block_hashes",
    "decode_snapshot",
    "encode_entries",
    "encode_snapshot",
    "entries_digest",
    "leading_matches",
    "load_prefix_key",
    "report_prefix_key",
    "root_key",
    "token_block_keys",
]
