"""The cache changes of one engine step, gathered for the KV-event publisher.

:class:`~gie_sim.kv_cache.PrefixCache` reports each change here as vLLM's block pool
does: one ``BlockStored`` per caching call (a run of newly full blocks with their token
ids and the hash of the block before them), one ``BlockRemoved`` per eviction, and
``AllBlocksCleared`` on a cache reset. The engine calls :meth:`flush` after every step,
which hands the step's events, as one batch, to the sink. Without a sink nothing is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gie.kvevents import AllBlocksCleared, BlockRemoved, BlockStored, EngineEvent

__all__ = ["KvEventLog", "hash_value"]

BatchSink = Callable[[list[EngineEvent]], None]


def hash_value(block_hash: bytes) -> int:
    """The simulator's 8-byte block hash as the integer vLLM would send."""
    return int.from_bytes(block_hash, "big")


class KvEventLog:
    """Pending events of the current step. One event loop; not thread-safe."""

    def __init__(self) -> None:
        self.sink: BatchSink | None = None
        self._pending: list[EngineEvent] = []

    @property
    def enabled(self) -> bool:
        return self.sink is not None

    def stored(
        self,
        hashes: Sequence[bytes],
        parent: bytes | None,
        token_ids: Sequence[int],
        block_size: int,
    ) -> None:
        if self.sink is None or not hashes:
            return
        self._pending.append(
            BlockStored(
                tuple(hash_value(h) for h in hashes),
                None if parent is None else hash_value(parent),
                tuple(token_ids),
                block_size,
            )
        )

    def removed(self, block_hash: bytes) -> None:
        if self.sink is not None:
            self._pending.append(BlockRemoved((hash_value(block_hash),)))

    def cleared(self) -> None:
        if self.sink is not None:
            self._pending.append(AllBlocksCleared())

    def flush(self) -> None:
        """Hand the pending events to the sink as one batch (nothing when there are none)."""
        if self._pending and self.sink is not None:
            batch, self._pending = self._pending, []
            self.sink(batch)
