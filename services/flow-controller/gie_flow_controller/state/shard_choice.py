"""Where new work goes: JSQ-bytes, starting from the flow's home shard.

Mirrored exactly by the admission Lua script (see ``lua/admit.lua``).
"""

from __future__ import annotations

from collections.abc import Sequence


def home_shard(fairness_id: str, shards: int) -> int:
    """A stable shard for a fairness id: a polynomial hash of its UTF-8 bytes."""
    value = 0
    for byte in fairness_id.encode():
        value = (value * 31 + byte) % 2147483647
    return value % shards


def least_loaded(fairness_id: str, shard_bytes: Sequence[int]) -> int:
    """The shard with the fewest queued bytes; ties go to the first from the home shard."""
    shards = len(shard_bytes)
    start = home_shard(fairness_id, shards)
    best = start
    for step in range(1, shards):
        shard = (start + step) % shards
        if shard_bytes[shard] < shard_bytes[best]:
            best = shard
    return best
