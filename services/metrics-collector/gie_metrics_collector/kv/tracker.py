"""What one endpoint's KV cache holds, kept from its KV events, and the gie events to say so.

:class:`KvTracker` is the pure part of following an endpoint: it takes the server's
batches in sequence order (the subscriber handles sockets, gaps and replay) and returns the
``Kv*`` events to publish for each. It keeps the server's block hash -> gie key map (so a
``BlockRemoved``, which names blocks by the server's hashes, becomes removed keys) with a
count per key (a key leaves only with its last copy), the server run (``epoch``) and the
last applied sequence number. :meth:`restore` rebuilds all of it from the endpoint's
events on the bus, which is how a collector taking over an endpoint carries on where the
previous owner stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

from gie.events import (
    Event,
    KvBlocksRemoved,
    KvBlocksStored,
    KvCacheCleared,
    KvClearReason,
    KvEvent,
    KvStateUnknown,
    KvUnknownReason,
    new_event_id,
)
from gie.events.hashes import pack_hashes
from gie.kvevents import (
    AllBlocksCleared,
    BlockRemoved,
    BlockStored,
    EngineBatch,
    engine_hash_id,
)
from gie.kvevents.wire import EngineHash
from gie.prefix import PrefixKey, root_key, token_block_keys

__all__ = ["RESTATED_BLOCKS_PER_EVENT", "KvCounts", "KvTracker"]

# A restated state is cut in events of this many blocks (about 90 KB each): a server
# holds tens of thousands, more than one NATS message may carry (1 MiB by default).
RESTATED_BLOCKS_PER_EVENT = 4_096


@dataclass
class KvCounts:
    """What was skipped, for the collector's counters (read and reset by the caller)."""

    unknown_parent: int = 0  # BlockStored whose parent block is not known: dropped
    unmapped_removal: int = 0  # removed hashes never seen stored
    unknown_event: int = 0  # event types this collector does not know
    other_medium: int = 0  # events about another tier than the GPU (CPU offloading)

    def take(self) -> dict[str, int]:
        taken = {
            "unknown_parent": self.unknown_parent,
            "unmapped_removal": self.unmapped_removal,
            "unknown_event": self.unknown_event,
            "other_medium": self.other_medium,
        }
        self.unknown_parent = self.unmapped_removal = self.unknown_event = 0
        self.other_medium = 0
        return {k: v for k, v in taken.items() if v}


class KvTracker:
    """One endpoint's cache as its events describe it. One event loop; not thread-safe."""

    def __init__(self, *, pool: str, address: str, source: str, key: PrefixKey) -> None:
        self.pool, self.address, self.source = pool, address, source
        self._key = key  # the pool's secret the block keys are keyed with
        self.epoch: str | None = None
        self.last_seq = -1
        self.known = False
        self._engine_to_key: dict[int, int] = {}
        self._copies: dict[int, int] = {}  # key -> engine hashes mapped to it
        self._block_size: int | None = None  # the last stored blocks'
        self.counts = KvCounts()

    @property
    def blocks(self) -> int:
        """Distinct keys held."""
        return len(self._copies)

    # -- from the bus (taking an endpoint over) --------------------------------
    def restore(self, event: Event) -> None:
        """Fold one of the endpoint's own published events (in stream order)."""
        if isinstance(event, KvCacheCleared):
            if event.epoch == self.epoch and event.seq < self.last_seq:
                return  # a late copy from another collector (see below)
            self._reset()
            self.epoch, self.last_seq, self.known = event.epoch, event.seq, True
            return
        if not isinstance(event, KvEvent):
            return
        if self.epoch is None:
            self.epoch, self.known = event.epoch, False  # its start aged out of the stream
        elif event.epoch != self.epoch or event.seq < self.last_seq:
            # Another run's, or older than what was applied: during a hand-over both
            # collectors may publish the same batches, interleaved. The pickers skip
            # these too, so the map must not take them.
            return
        if isinstance(event, KvStateUnknown):
            self._reset()
            self.known = False
        elif isinstance(event, KvBlocksStored):
            self._block_size = event.block_size
            for engine, key in zip(event.engines, event.keys, strict=False):
                self._map(engine, key)
        elif isinstance(event, KvBlocksRemoved):
            for engine in event.engines:
                self._unmap(engine)
        self.last_seq = max(self.last_seq, event.seq)

    # -- from the server ---------------------------------------------------------
    def begin(self, reason: KvClearReason) -> Event:
        """A new server run starts (first batch seen, or a restart): empty and known."""
        self._reset()
        self.epoch, self.last_seq, self.known = new_event_id(), -1, True
        return self._event(KvCacheCleared, reason=reason.value)

    def restated(self) -> list[Event]:
        """This run's state in full, for consumers that may have missed some of its
        events (they could not be published): ``KvCacheCleared(resync)`` then every block
        held, at the last sequence; an unknown state is restated as unknown."""
        if self.epoch is None:
            return []
        if not self.known:
            return [self._event(KvStateUnknown, reason=KvUnknownReason.PUBLISH_FAILED.value)]
        out = [self._event(KvCacheCleared, reason=KvClearReason.RESYNC.value)]
        if self._block_size is None:
            return out
        engines = list(self._engine_to_key)
        for start in range(0, len(engines), RESTATED_BLOCKS_PER_EVENT):
            part = engines[start : start + RESTATED_BLOCKS_PER_EVENT]
            out.append(
                self._event(
                    KvBlocksStored,
                    block_size=self._block_size,
                    block_keys=pack_hashes([self._engine_to_key[e] for e in part]),
                    engine_hashes=pack_hashes(part),
                )
            )
        return out

    def lost(self, first: int, last: int, reason: KvUnknownReason) -> Event:
        """Batches ``first``..``last`` are lost for good: the state is unknown from here."""
        if self.epoch is None:
            self.epoch = new_event_id()
        self._reset()
        self.known = False
        self.last_seq = last
        return self._event(KvStateUnknown, reason=reason.value, missing_from=first, missing_to=last)

    def apply(self, seq: int, batch: EngineBatch) -> list[Event]:
        """The events for batch ``seq`` (the next one, ``last_seq + 1``).

        Consecutive ``BlockRemoved`` events (vLLM sends one per evicted block) become one
        ``KvBlocksRemoved``; the order of everything else is kept.
        """
        self.last_seq = seq
        self.counts.unknown_event += batch.unknown_events
        self.counts.other_medium += batch.other_medium_events
        out: list[Event] = []
        removed_keys: list[int] = []
        removed_engines: list[int] = []
        for item in batch.events:
            if isinstance(item, BlockRemoved):
                self._removed(item, removed_keys, removed_engines)
                continue
            self._flush_removed(out, removed_keys, removed_engines)
            if isinstance(item, BlockStored):
                stored = self._stored(item)
                if stored is not None:
                    out.append(stored)
            else:
                assert isinstance(item, AllBlocksCleared)
                self._reset()
                self.known = True
                out.append(
                    self._event(KvCacheCleared, reason=KvClearReason.ALL_BLOCKS_CLEARED.value)
                )
        self._flush_removed(out, removed_keys, removed_engines)
        return out

    def _flush_removed(self, out: list[Event], keys: list[int], engines: list[int]) -> None:
        if engines:
            out.append(
                self._event(
                    KvBlocksRemoved,
                    block_keys=pack_hashes(keys),
                    engine_hashes=pack_hashes(engines),
                )
            )
            keys.clear()
            engines.clear()

    def _stored(self, item: BlockStored) -> Event | None:
        if item.parent_block_hash is None:
            parent = root_key(item.lora_name, key=self._key)
        else:
            found = self._engine_to_key.get(self._engine_id(item.parent_block_hash))
            if found is None:
                self.counts.unknown_parent += 1
                return None
            parent = found
        keys = token_block_keys(item.token_ids, item.block_size, key=self._key, parent=parent)
        engines = [self._engine_id(h) for h in item.block_hashes]
        for engine, key in zip(engines, keys, strict=True):
            self._map(engine, key)
        self._block_size = item.block_size
        return self._event(
            KvBlocksStored,
            block_size=item.block_size,
            block_keys=pack_hashes(keys),
            engine_hashes=pack_hashes(engines),
        )

    def _engine_id(self, value: EngineHash) -> int:
        """The published id of a server's block hash: keyed, like the block keys."""
        mac = self._key.engine_mac.copy()
        mac.update(engine_hash_id(value).to_bytes(8, "little"))
        return int.from_bytes(mac.digest(), "little")

    def _removed(self, item: BlockRemoved, keys: list[int], engines: list[int]) -> None:
        for block_hash in item.block_hashes:
            engine = self._engine_id(block_hash)
            key = self._engine_to_key.get(engine)
            if key is None:
                self.counts.unmapped_removal += 1
                continue
            engines.append(engine)
            if self._unmap(engine):
                keys.append(key)

    # -- internals -----------------------------------------------------------------
    def _map(self, engine: int, key: int) -> None:
        previous = self._engine_to_key.get(engine)
        if previous == key:
            return
        if previous is not None:
            self._unmap(engine)
        self._engine_to_key[engine] = key
        self._copies[key] = self._copies.get(key, 0) + 1

    def _unmap(self, engine: int) -> bool:
        """Forget ``engine``; True when its key has no copy left."""
        key = self._engine_to_key.pop(engine, None)
        if key is None:
            return False
        left = self._copies[key] - 1
        if left:
            self._copies[key] = left
            return False
        del self._copies[key]
        return True

    def _reset(self) -> None:
        self._engine_to_key.clear()
        self._copies.clear()

    def _event(self, kind: type[KvEvent], **values: object) -> Event:
        # Built without validation: every value comes from state this tracker keeps
        # valid (packed hashes, sequence numbers >= -1, the run's id).
        assert self.epoch is not None
        return kind.trusted(
            source=self.source,
            pool=self.pool,
            address=self.address,
            epoch=self.epoch,
            seq=self.last_seq,
            **values,
        )
