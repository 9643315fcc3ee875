"""The approximate prefix index: which endpoint recently saw which prompt blocks.

Per endpoint, an LRU of block hashes bounded by a capacity; plus the reverse
map from a hash to the endpoints holding it. ``add`` refreshes or inserts
hashes (evicting the endpoint's least recently used ones beyond capacity),
``match`` counts, per endpoint, the consecutive leading hashes it holds.

The structure is deterministic: the same ``add``/``remove_endpoint`` calls in
the same order give the same content, LRU order included, and the same
:meth:`digest`. Not thread-safe; one event loop owns it.

:meth:`PrefixIndex.start_copy` copies the content of one instant in steps (a
few thousand hashes each), so a large index can be copied between other work:
until the copy is complete, the index has an endpoint's entries copied before it
changes them (copy-on-write). A finished copy holds only plain lists and may be read from any
thread.
"""

from __future__ import annotations

import hashlib
import sys
from array import array
from collections import OrderedDict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice

COPY_STEP_HASHES = 8192  # per IndexCopy.step: a millisecond or two of copying


@dataclass(frozen=True, slots=True)
class EndpointEntries:
    """One endpoint of an index copy: its capacity and hashes, least recently used first."""

    address: str
    capacity: int
    hashes: list[int]


class IndexCopy:
    """The content of a :class:`PrefixIndex` when :meth:`PrefixIndex.start_copy` was
    called, taken a few thousand hashes per :meth:`step`.

    Use it on the index's thread until :attr:`done`; the :meth:`endpoints` of a done
    copy are plain data. :meth:`close` abandons an unfinished copy.
    """

    def __init__(self, index: PrefixIndex, *, step_hashes: int) -> None:
        if step_hashes <= 0:
            raise ValueError("step_hashes must be positive")
        self._index = index
        self._step_hashes = step_hashes
        # The LRUs themselves, not copies: the index tells the copy before changing one.
        self._pending = {address: index._lru[address] for address in sorted(index._lru)}
        self._capacity = dict(index._capacity)
        self._copied: list[EndpointEntries] = []
        self._early: dict[str, list[int]] = {}  # copied before a change, out of turn
        # The endpoint being copied: its address, LRU, hashes so far, and where it is.
        self._current: tuple[str, OrderedDict[int, None], list[int], Iterator[int]] | None = None

    @property
    def done(self) -> bool:
        return self._current is None and not self._pending

    def step(self) -> bool:
        """Copy up to ``step_hashes`` more hashes; True once everything is copied."""
        if self._current is None and self._pending:
            address = next(iter(self._pending))
            lru = self._pending.pop(address)
            if address in self._early:
                self._append(address, self._early.pop(address))
            else:
                self._current = (address, lru, [], iter(lru))
        if self._current is not None:
            address, _, hashes, remaining = self._current
            before = len(hashes)
            hashes.extend(islice(remaining, self._step_hashes))
            if len(hashes) - before < self._step_hashes:
                self._current = None
                self._append(address, hashes)
        if self.done:
            self.close()
        return self.done

    def finish(self) -> list[EndpointEntries]:
        """Copy what is left at once and return :meth:`endpoints`."""
        while not self.step():
            pass
        return self.endpoints()

    def endpoints(self) -> list[EndpointEntries]:
        """Every endpoint of the copied instant, by address; only once :attr:`done`."""
        if not self.done:
            raise RuntimeError("the index copy is not complete")
        return list(self._copied)

    def close(self) -> None:
        """Stop following the index's changes (a complete copy closes itself)."""
        self._index._copies.discard(self)

    def _append(self, address: str, hashes: list[int]) -> None:
        self._copied.append(EndpointEntries(address, self._capacity[address], hashes))

    def _before_change(self, address: str, lru: OrderedDict[int, None]) -> None:
        current = self._current
        if current is not None and current[1] is lru:  # finish it before it changes
            hashes = current[2]
            hashes.extend(current[3])
            self._current = None
            self._append(current[0], hashes)
        elif self._pending.get(address) is lru and address not in self._early:
            self._early[address] = list(lru)


class PrefixIndex:
    def __init__(self) -> None:
        self._lru: dict[str, OrderedDict[int, None]] = {}
        self._capacity: dict[str, int] = {}
        self._holders: dict[int, set[str]] = {}
        self._copies: set[IndexCopy] = set()  # unfinished copies, told of every change

    def start_copy(self, *, step_hashes: int = COPY_STEP_HASHES) -> IndexCopy:
        """A copy of the index as it is now, to be taken in :meth:`IndexCopy.step`s of
        at most ``step_hashes`` hashes."""
        copy = IndexCopy(self, step_hashes=step_hashes)
        if not copy.done:
            self._copies.add(copy)
        return copy

    def add(self, hashes: Sequence[int], endpoint: str, *, capacity: int) -> None:
        """Record that ``endpoint`` now caches ``hashes`` (most recent last)."""
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        lru = self._lru.get(endpoint)
        if lru is None:
            lru = self._lru[endpoint] = OrderedDict()
        elif self._copies:
            for copy in self._copies:
                copy._before_change(endpoint, lru)
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
        return leading_matches(hashes, self._holders)

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
        return _digest((e, self._capacity[e], self._lru[e]) for e in self.endpoints())


def leading_matches(
    hashes: Sequence[int], holders_of: Mapping[int, Collection[str]]
) -> dict[str, int]:
    """Endpoint -> how many of the leading ``hashes`` it holds without a gap.

    ``holders_of`` maps a hash to the endpoints holding it (a set, or a dict keyed by them).
    The endpoints holding the first hash are followed down the prompt as one set: a
    block only costs a lookup and a subset test while none of them drops out (on a
    shared prefix, nearly every block), instead of a step per endpoint. The result
    lists the endpoints in the order the first hash's holders iterate.
    """
    first = holders_of.get(hashes[0]) if hashes else None
    if not first:
        return {}
    matched = dict.fromkeys(first, len(hashes))
    alive = set(first)
    for position in range(1, len(hashes)):
        holders = holders_of.get(hashes[position])
        if not holders:
            for endpoint in alive:
                matched[endpoint] = position
            return matched
        if alive.issubset(holders):
            continue
        gone = alive.difference(holders)
        for endpoint in gone:
            matched[endpoint] = position
        alive -= gone
    return matched


def entries_digest(endpoints: Sequence[EndpointEntries]) -> str:
    """:meth:`PrefixIndex.digest` of a copied index (endpoints by address); any thread."""
    return _digest((e.address, e.capacity, e.hashes) for e in endpoints)


def _digest(endpoints: Iterable[tuple[str, int, Iterable[int]]]) -> str:
    sha = hashlib.sha256()
    for address, capacity, hashes in endpoints:
        sha.update(f"{address}|{capacity}|".encode())
        blocks = array("Q", hashes)  # each hash as 8 bytes, little-endian
        if sys.byteorder == "big":
            blocks.byteswap()
        sha.update(blocks.tobytes())
    return sha.hexdigest()
