"""The picker's prefix cache: which endpoint likely holds a prompt's leading blocks.

:class:`PrefixCacheState` (:mod:`~gie_picker.prefixcache.state`) holds the
shared :class:`~gie.prefix.PrefixIndex`, folded from ``RequestRouted`` events,
plus this replica's own recent decisions until their events come back; the
prefix-cache scorer reads it and the director records each decision in it.
:mod:`~gie_picker.prefixcache.snapshots` gives replicas a warm start: the
pool's latest snapshot of the index is loaded at start, and written again
periodically while the stream moves.

Concurrency: one event loop owns the state (bus callbacks fold into it, scorers
and the director use it per request); the snapshot writer is an asyncio task on
that loop.
"""

from __future__ import annotations

from gie_picker.prefixcache.snapshots import load_snapshot, snapshot_name, write_snapshots
from gie_picker.prefixcache.state import PrefixCacheState, Routed

__all__ = ["PrefixCacheState", "Routed", "load_snapshot", "snapshot_name", "write_snapshots"]
