"""Chained block hashes of a prompt, as upstream's approximate prefix cache computes them.

The prompt's bytes are cut into ``block_size``-byte blocks (a trailing partial
block is dropped; at most ``max_blocks`` blocks). The chain is seeded with
xxhash64 of the target model (and the ``cache_salt``, if any); block ``i``'s
hash is xxhash64 of its bytes followed by block ``i-1``'s hash (8 bytes, little
endian). A hash therefore stands for the whole prefix up to its block, and
requests for another model or salt never share one.
"""

from __future__ import annotations

import struct

import xxhash

_LITTLE_ENDIAN_U64 = struct.Struct("<Q").pack


def block_hashes(
    text: bytes, *, model: str, cache_salt: str = "", block_size: int, max_blocks: int
) -> list[int]:
    """The chained hashes of ``text``'s full blocks (at most ``max_blocks``)."""
    if block_size <= 0 or max_blocks <= 0:
        raise ValueError("block_size and max_blocks must be positive")
    count = min(len(text) // block_size, max_blocks)
    if count == 0:
        return []
    seed = xxhash.xxh64()
    seed.update(model.encode())
    if cache_salt:
        seed.update(cache_salt.encode())
    previous = seed.intdigest()
    digest = xxhash.xxh64_intdigest
    hashes: list[int] = []
    append = hashes.append
    for start in range(0, count * block_size, block_size):
        previous = digest(text[start : start + block_size] + _LITTLE_ENDIAN_U64(previous))
        append(previous)
    return hashes
