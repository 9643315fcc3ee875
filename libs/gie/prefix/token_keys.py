"""Chained keys of KV blocks computed from token ids: what precise prefix routing matches.

Model servers name their cache blocks with hashes gie cannot reproduce (vLLM's default is
sha256 over a pickle, seeded per process). So the metrics-collector, which reads the
blocks' token ids from the servers' KV events, and the picker, which tokenizes the
request, both compute gie's own key for every full block: block ``i``'s key is xxh3-64
of its token ids (little-endian uint64s) seeded with block ``i-1``'s key; the first
block is seeded with :func:`root_key` (0 for the base model, a hash of the LoRA adapter's
name otherwise). A key therefore stands for the whole prefix up to its block.
"""

from __future__ import annotations

import array
import sys
from collections.abc import Sequence

import xxhash

__all__ = ["ROOT_KEY", "root_key", "token_block_keys"]

ROOT_KEY = 0
_LITTLE = sys.byteorder == "little"


def root_key(lora_name: str | None = None) -> int:
    """The seed of a chain: 0 for the base model, else derived from the adapter name."""
    return xxhash.xxh3_64_intdigest(lora_name.encode()) if lora_name else ROOT_KEY


def token_block_keys(
    token_ids: Sequence[int],
    block_size: int,
    *,
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
    digest = xxhash.xxh3_64_intdigest
    keys: list[int] = []
    for start in range(0, count * step, step):
        parent = digest(raw[start : start + step], parent)
        keys.append(parent)
    return keys
