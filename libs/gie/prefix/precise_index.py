"""What every model server's prefix cache holds, folded from ``Kv*`` events.

Per endpoint: the server run (``epoch``), the last applied batch ``seq``, whether the
state is *known*, the block size, and the set of gie block keys it holds
(:func:`~gie.prefix.token_keys.token_block_keys`). Folding rules (idempotent):

* ``KvCacheCleared``: empty; known. With a new ``epoch`` a new run begins.
* ``KvStateUnknown``: empty; unknown until the next ``KvCacheCleared``.
* ``KvBlocksStored`` / ``KvBlocksRemoved``: applied when their ``epoch`` is the current
  one and their ``seq`` is not older than the last applied. The first event of an
  endpoint seen without its ``KvCacheCleared`` (it aged out of the stream) adopts its
  epoch as unknown.
* ``EndpointRemoved`` is not folded here: an endpoint's entry simply stops being asked
  for (a server back in the pool goes on where it was; a new one starts a run). The
  picker :meth:`removes <PreciseIndex.remove>` one that stayed out long enough.

Every replica folds the same stream, so replicas hold the same index (:attr:`digest`).
Pure data structure, one event loop.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from gie.events import (
    Event,
    KvBlocksRemoved,
    KvBlocksStored,
    KvCacheCleared,
    KvEvent,
    KvStateUnknown,
)

__all__ = ["EndpointKv", "PreciseIndex"]


@dataclass
class EndpointKv:
    """One endpoint's cache as its events describe it."""

    epoch: str
    seq: int
    known: bool
    block_size: int | None = None
    keys: set[int] = field(default_factory=set)


class PreciseIndex:
    def __init__(self, pool: str) -> None:
        self.pool = pool
        self._endpoints: dict[str, EndpointKv] = {}
        self.stale_events = 0  # events of an older run or batch, ignored

    def get(self, address: str) -> EndpointKv | None:
        return self._endpoints.get(address)

    def is_known(self, address: str) -> bool:
        state = self._endpoints.get(address)
        return state is not None and state.known

    @property
    def known_endpoints(self) -> int:
        return sum(1 for state in self._endpoints.values() if state.known)

    @property
    def size(self) -> int:
        """Keys held, over all endpoints."""
        return sum(len(state.keys) for state in self._endpoints.values())

    def apply(self, event: Event) -> bool:
        """Fold one event; True when it changed the index."""
        if not isinstance(event, KvEvent) or event.pool != self.pool:
            return False
        state = self._endpoints.get(event.address)
        if isinstance(event, KvCacheCleared):
            if state is not None and state.epoch == event.epoch and event.seq < state.seq:
                self.stale_events += 1
                return False
            self._endpoints[event.address] = EndpointKv(
                event.epoch, event.seq, True, state.block_size if state else None
            )
            return True
        if state is None:
            state = self._endpoints[event.address] = EndpointKv(event.epoch, event.seq, False)
        elif state.epoch != event.epoch or event.seq < state.seq:
            self.stale_events += 1
            return False
        state.seq = event.seq
        if isinstance(event, KvStateUnknown):
            state.known = False
            state.keys.clear()
        elif isinstance(event, KvBlocksStored):
            state.block_size = event.block_size
            state.keys.update(event.keys)
        elif isinstance(event, KvBlocksRemoved):
            state.keys.difference_update(event.keys)
        return True

    def remove(self, address: str) -> None:
        """Forget ``address`` (it left the pool for good); its next event starts afresh."""
        self._endpoints.pop(address, None)

    def match(self, keys: Sequence[int], addresses: Iterable[str]) -> dict[str, int]:
        """Consecutive leading ``keys`` held, per known endpoint among ``addresses``."""
        out: dict[str, int] = {}
        for address in addresses:
            state = self._endpoints.get(address)
            if state is None or not state.known:
                continue
            held = state.keys
            count = 0
            for key in keys:
                if key not in held:
                    break
                count += 1
            out[address] = count
        return out

    @property
    def digest(self) -> str:
        """A hash of the whole index: equal on replicas that folded the same events."""
        digest = hashlib.blake2b(digest_size=16)
        for address in sorted(self._endpoints):
            state = self._endpoints[address]
            digest.update(f"{address}|{state.epoch}|{state.seq}|{state.known}|".encode())
            for key in sorted(state.keys):
                digest.update(key.to_bytes(8, "little"))
        return digest.hexdigest()

    def debug(self) -> dict[str, object]:
        return {
            address: {
                "epoch": state.epoch,
                "seq": state.seq,
                "known": state.known,
                "block_size": state.block_size,
                "blocks": len(state.keys),
            }
            for address, state in sorted(self._endpoints.items())
        }
