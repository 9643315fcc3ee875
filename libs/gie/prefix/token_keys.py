"""Chained keys of KV blocks computed from token ids: what precise prefix routing matches.

Model servers name their cache blocks with hashes gie cannot reproduce (vLLM's default is
sha256 over a pickle, seeded per process). So the metrics-collector, which reads the
blocks' token ids from the servers' KV events, and the picker, which tokenizes the
request, both compute gie's own key for every full block: block ``i``'s key is a keyed
BLAKE2b (8-byte digest, under the pool's secret: :class:`~gie.prefix.keying.PrefixKey`)
of block ``i-1``'s key (8 bytes, little endian) followed by the block's token ids
(little-endian uint64s); the first block follows :func:`root_key` (0 for the base model,
a keyed hash of the LoRA adapter's name otherwise). A key therefore stands for the whole
prefix up to its block, and a reader of the published keys without the secret cannot
confirm a guessed prompt.
"""

from __future__ import annotations

import array
import sys
from collections.abc import Sequence

from gie.prefix.keying import PrefixKey

__all__ = ["ROOT_KEY", "root_key", "token_block_keys"]

ROOT_KEY = 0
_LITTLE = sys.byteorder == "little"


def root_key(lora_name: str | None = None, *, key: PrefixKey) -> int:
    """The seed of a chain: 0 for the base model, else derived from the adapter name."""
    if not lora_name:
        return ROOT_KEY
    mac = key.token_mac.copy()
    mac.update(b"lora\0" + lora_name.encode())
    return int.from_bytes(mac.digest(), "little")


def token_block_keys(
    token_ids: Sequence[int],
    block_size: int,
    *,
    key: PrefixKey,
    parent: int = ROOT_KEY,
    max_blocks: int | None = None,
) -> list[int]:
    """Keys of the full blocks of ``token_ids`` (a trailing partial block has none),
    chained from ``parent``. Token ids must be in ``[0, 2**64)`` (OverflowError)."""
    if block_size < 1:
        raise ValueError("block_size must be positive")
    count = len(token_ids) // block_size
    if max_blocks is not None:
        count = min(count, max_blocks)
    if count == 0:
        return []
    values = array.array("Q", token_ids[: count * block_size])
    if not _LITTLE:
        values.byteswap()
    raw = memoryview(values.tobytes())
    step = block_size * 8
    mac = key.token_mac
    previous = parent.to_bytes(8, "little")
    keys: list[int] = []
    for start in range(0, count * step, step):
        block = mac.copy()
        block.update(previous)
        block.update(raw[start : start + step])
        previous = block.digest()
        keys.append(int.from_bytes(previous, "little"))
    return keys
