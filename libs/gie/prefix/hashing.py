"""Chained block hashes of a prompt, as upstream's approximate prefix cache chains them.

The prompt's bytes are cut into ``block_size``-byte blocks (a trailing partial
block is dropped; at most ``max_blocks`` blocks). The chain starts from a hash of
the target model (and the ``cache_salt``, if any); block ``i``'s hash is the hash
of its bytes followed by block ``i-1``'s hash (8 bytes, little endian). A hash
therefore stands for the whole prefix up to its block, and requests for another
model or salt never share one.

Every hash is a keyed BLAKE2b (8-byte digest) under the pool's secret
(:class:`~gie.prefix.keying.PrefixKey`): the hashes are published in routing events,
and a reader without the secret cannot hash a guessed prompt to confirm it (upstream's
unkeyed xxhash64 would let it).
"""

from __future__ import annotations

from gie.prefix.keying import PrefixKey

_SEPARATOR = b"\0"


def block_hashes(
    text: bytes,
    *,
    key: PrefixKey,
    model: str,
    cache_salt: str = "",
    block_size: int,
    max_blocks: int,
) -> list[int]:
    """The chained hashes of ``text``'s full blocks (at most ``max_blocks``)."""
    if block_size <= 0 or max_blocks <= 0:
        raise ValueError("block_size and max_blocks must be positive")
    count = min(len(text) // block_size, max_blocks)
    if count == 0:
        return []
    mac = key.text_mac
    seed = mac.copy()
    seed.update(model.encode() + _SEPARATOR + cache_salt.encode())
    previous = seed.digest()
    view = memoryview(text)
    hashes: list[int] = []
    append = hashes.append
    for start in range(0, count * block_size, block_size):
        block = mac.copy()
        block.update(view[start : start + block_size])
        block.update(previous)
        previous = block.digest()
        append(int.from_bytes(previous, "little"))
    return hashes
