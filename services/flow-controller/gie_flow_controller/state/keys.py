"""Redis key names of a pool's flow state (see ``lua/common.lua`` for the layout)."""

from __future__ import annotations


def pool_prefix(pool: str) -> str:
    """``{gie:<pool>}:fc:``: the hash tag keeps every key of a pool in one slot."""
    if "{" in pool or "}" in pool:
        raise ValueError(f"pool key must not contain braces: {pool!r}")
    return f"{{gie:{pool}}}:fc:"


class PoolKeys:
    """Key and channel names of one pool."""

    def __init__(self, pool: str) -> None:
        self.pool = pool
        self.prefix = pool_prefix(pool)
        self.meta = self.prefix + "meta"
        self.outcomes = self.prefix + "outcomes"
        self.wake = self.prefix + "wake"

    def request(self, request_id: str) -> str:
        return f"{self.prefix}r:{request_id}"

    def flow(self, priority: int, fairness_id: str) -> str:
        return f"{self.prefix}f:{priority}:{fairness_id}"

    def lease(self, shard: int) -> str:
        return f"{self.prefix}lease:{shard}"
