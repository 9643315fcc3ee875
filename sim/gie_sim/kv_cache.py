"""Paged KV cache with automatic prefix caching, modelled on vLLM's block manager.

The cache has ``num_blocks`` blocks of ``block_size`` tokens. A *full* block of a prompt is
identified by a chained hash: ``hash(parent block hash, token ids of the block)``, so a
block only matches when everything before it matches as well.

Every block is in exactly one state:

* **in use** -- ``ref_count > 0``; pinned by running requests, never evicted;
* **cached** -- ``ref_count == 0`` but still holding a hash; reusable by a later request
  with the same prefix, evicted least-recently-freed first when space is needed;
* **empty** -- ``ref_count == 0`` and no hash.

"Free" (allocatable) blocks are the cached plus the empty ones.
"""

from __future__ import annotations

import hashlib
from array import array
from collections import OrderedDict
from collections.abc import Sequence

from gie_sim.kv_event_log import KvEventLog

__all__ = ["ROOT_HASH", "BlockHash", "PrefixCache", "blocks_for_tokens", "hash_blocks"]

BlockHash = bytes
ROOT_HASH: BlockHash = bytes(8)


def blocks_for_tokens(num_tokens: int, block_size: int) -> int:
    """Number of blocks needed to hold ``num_tokens`` tokens (ceiling division)."""
    return -(-max(0, num_tokens) // block_size)


def hash_blocks(tokens: Sequence[int], block_size: int) -> list[BlockHash]:
    """Chained hashes of every *full* block of ``tokens`` (a trailing partial block has none).

    Token ids must be in ``[0, 2**63)``.
    """
    hashes: list[BlockHash] = []
    parent = ROOT_HASH
    for start in range(0, len(tokens) - block_size + 1, block_size):
        digest = hashlib.blake2b(parent, digest_size=8)
        digest.update(array("q", tokens[start : start + block_size]).tobytes())
        parent = digest.digest()
        hashes.append(parent)
    return hashes


class PrefixCache:
    """Block pool with ref counts, a hash index and LRU eviction of unpinned cached blocks."""

    def __init__(self, num_blocks: int, block_size: int) -> None:
        if num_blocks < 1 or block_size < 1:
            raise ValueError("num_blocks and block_size must be >= 1")
        self.num_blocks = num_blocks
        self.block_size = block_size
        self._ref = [0] * num_blocks
        self._hash: list[BlockHash | None] = [None] * num_blocks
        self._by_hash: dict[BlockHash, int] = {}
        self._empty: list[int] = list(range(num_blocks - 1, -1, -1))  # pop() yields 0 first
        self._lru: OrderedDict[int, None] = OrderedDict()  # cached & unpinned, oldest first
        self._in_use = 0
        self.events = KvEventLog()

    # ----------------------------------------------------------------- inspection
    @property
    def num_in_use(self) -> int:
        """Blocks pinned by at least one request."""
        return self._in_use

    @property
    def num_free(self) -> int:
        """Blocks that can be handed out now (empty + evictable cached)."""
        return self.num_blocks - self._in_use

    @property
    def num_cached(self) -> int:
        """Blocks that currently carry a prefix hash (pinned or not)."""
        return len(self._by_hash)

    @property
    def usage(self) -> float:
        """Fraction of blocks pinned by requests (vLLM's ``kv_cache_usage_perc``)."""
        return self._in_use / self.num_blocks

    def ref_count(self, block_id: int) -> int:
        return self._ref[block_id]

    def contains(self, block_hash: BlockHash) -> bool:
        return block_hash in self._by_hash

    def held_hashes(self) -> list[BlockHash]:
        """Hashes of every block the cache holds (pinned or not), in no particular order."""
        return list(self._by_hash)

    # ----------------------------------------------------------------- operations
    def match(self, hashes: Sequence[BlockHash]) -> list[int]:
        """Block ids of the longest cached prefix of ``hashes`` (stops at the first miss)."""
        found: list[int] = []
        for block_hash in hashes:
            block_id = self._by_hash.get(block_hash)
            if block_id is None:
                break
            found.append(block_id)
        return found

    def count_unpinned(self, block_ids: Sequence[int]) -> int:
        """How many of ``block_ids`` are currently unpinned (would leave the free pool)."""
        return sum(1 for block_id in block_ids if self._ref[block_id] == 0)

    def acquire(self, block_ids: Sequence[int]) -> None:
        """Pin existing (matched) blocks for one more request."""
        for block_id in block_ids:
            if self._ref[block_id] == 0:
                self._lru.pop(block_id, None)
                self._in_use += 1
            self._ref[block_id] += 1

    def allocate(self, count: int) -> list[int]:
        """Pin ``count`` fresh blocks, evicting least-recently-freed cached blocks if needed."""
        if count > self.num_free:
            raise RuntimeError(f"KV cache exhausted: need {count}, free {self.num_free}")
        blocks: list[int] = []
        for _ in range(count):
            if self._empty:
                block_id = self._empty.pop()
            else:
                block_id, _ = self._lru.popitem(last=False)
                evicted = self._hash[block_id]
                if evicted is not None:
                    del self._by_hash[evicted]
                    self._hash[block_id] = None
                    self.events.removed(evicted)
            self._ref[block_id] = 1
            self._in_use += 1
            blocks.append(block_id)
        return blocks

    def register(self, block_id: int, block_hash: BlockHash) -> bool:
        """Publish a full block under its hash so later requests can reuse it.

        A hash already owned by another block is left alone (the duplicate block stays
        anonymous and becomes empty when freed), as in vLLM. True when registered.
        """
        if block_hash in self._by_hash or self._hash[block_id] is not None:
            return False
        self._hash[block_id] = block_hash
        self._by_hash[block_hash] = block_id
        return True

    def register_prompt(
        self,
        block_ids: Sequence[int],
        hashes: Sequence[BlockHash],
        tokens: Sequence[int],
        first: int,
    ) -> None:
        """Register the prompt's full blocks from index ``first`` on; each run of newly
        registered blocks is announced as one stored event with its token ids."""
        size = self.block_size
        run_start: int | None = None
        for index in range(first, len(hashes) + 1):
            new = index < len(hashes) and self.register(block_ids[index], hashes[index])
            if new and run_start is None:
                run_start = index
            elif not new and run_start is not None:
                self.events.stored(
                    hashes[run_start:index],
                    hashes[run_start - 1] if run_start else None,
                    tokens[run_start * size : index * size],
                    size,
                )
                run_start = None

    def clear(self) -> int:
        """Forget every cached block (vLLM's prefix-cache reset); how many were dropped.

        Pinned blocks stay pinned but anonymous (freed as empty). Announced as
        ``AllBlocksCleared``.
        """
        dropped = len(self._by_hash)
        for block_id in self._by_hash.values():
            self._hash[block_id] = None
        self._by_hash.clear()
        self._empty.extend(self._lru)
        self._lru.clear()
        self.events.cleared()
        return dropped

    def release(self, block_ids: Sequence[int]) -> None:
        """Unpin blocks of a finished request.

        Blocks are released tail first, so the end of a sequence is evicted before its
        beginning (longer shared prefixes survive), as vLLM does.
        """
        for block_id in reversed(block_ids):
            self._ref[block_id] -= 1
            if self._ref[block_id] > 0:
                continue
            self._in_use -= 1
            if self._hash[block_id] is not None:
                self._lru[block_id] = None
            else:
                self._empty.append(block_id)
