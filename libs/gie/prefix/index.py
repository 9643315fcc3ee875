"""The approximate prefix index: which endpoint recently saw which prompt blocks.

Per endpoint, an LRU of block hashes bounded by a capacity; plus the reverse
map from a hash to the endpoints holding it. ``add`` refreshes or inserts
hashes (evicting the endpoint's least recently used ones beyond capacity),
``match`` counts, per endpoint, the consecutive leading hashes it holds.

The structure is deterministic: the same ``add``/``remove_endpoint`` calls in
the same order give the same content, LRU order included, and the same
:meth:`digest`. Not thread-safe; one event loop owns it.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence


class PrefixIndex:
    def __init__(self) -> None:
        self._lru: dict[str, OrderedDict[int, None]] = {}
        self._capacity: dict[str, int] = {}
        self._holders: dict[int, set[str]] = {}

    def add(self, hashes: Sequence[int], endpoint: str, *, capacity: int) -> None:
        """Record that ``endpoint`` now caches ``hashes`` (most recent last)."""
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        lru = self._lru.get(endpoint)
        if lru is None:
            lru = self._lru[endpoint] = OrderedDict()
        self._capacity[endpoint] = capacity
        for block in hashes:
            if block in lru:
                lru.move_to_end(block)
            else:
                lru[block] = None
                self._holders.setdefault(block, set()).add(endpoint)
        while len(lru) > capacity:
            evicted, _ = lru.popitem(last=False)
            self._release(evicted, endpoint)

    def match(self, hashes: Sequence[int]) -> dict[str, int]:
        """Endpoint -> number of consecutive leading ``hashes`` it holds."""
        matched: dict[str, int] = {}
        for position, block in enumerate(hashes):
            holders = self._holders.get(block)
            if not holders:
                break
            for endpoint in holders:
                if matched.get(endpoint, 0) == position:
                    matched[endpoint] = position + 1
        return matched

    def remove_endpoint(self, endpoint: str) -> None:
        lru = self._lru.pop(endpoint, None)
        self._capacity.pop(endpoint, None)
        for block in lru or ():
            self._release(block, endpoint)

    def _release(self, block: int, endpoint: str) -> None:
        holders = self._holders.get(block)
        if holders is None:
            return
        holders.discard(endpoint)
        if not holders:
            del self._holders[block]

    @property
    def size(self) -> int:
        """Block hashes held, summed over endpoints."""
        return sum(len(lru) for lru in self._lru.values())

    def endpoints(self) -> list[str]:
        return sorted(self._lru)

    def entries(self, endpoint: str) -> list[int]:
        """The endpoint's hashes, least recently used first."""
        return list(self._lru.get(endpoint, ()))

    def capacity(self, endpoint: str) -> int | None:
        return self._capacity.get(endpoint)

    def digest(self) -> str:
        """SHA-256 over every endpoint's capacity and LRU content, in order."""
        sha = hashlib.sha256()
        for endpoint in self.endpoints():
            sha.update(f"{endpoint}|{self._capacity[endpoint]}|".encode())
            for block in self._lru[endpoint]:
                sha.update(block.to_bytes(8, "little"))
        return sha.hexdigest()
