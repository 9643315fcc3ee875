"""Small parts of the in-memory flow state: byte/request totals and leases."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Totals:
    """Queued bytes and requests of a band, a shard or the pool."""

    bytes: int = 0
    requests: int = 0

    def add(self, byte_size: int, requests: int) -> None:
        self.bytes += byte_size
        self.requests += requests


@dataclass(slots=True)
class Leases:
    """Shard leases and replica membership, expiring by the caller's clock."""

    shards: dict[int, tuple[str, int]] = field(default_factory=dict)
    members: dict[str, int] = field(default_factory=dict)

    def owner(self, shard: int, now_ms: int) -> str | None:
        held = self.shards.get(shard)
        return held[0] if held is not None and held[1] > now_ms else None

    def claim(self, shard: int, owner: str, *, ttl_ms: int, now_ms: int) -> bool:
        if self.owner(shard, now_ms) is not None:
            return False
        self.shards[shard] = (owner, now_ms + ttl_ms)
        return True

    def renew(self, shard: int, owner: str, *, ttl_ms: int, now_ms: int) -> bool:
        if self.owner(shard, now_ms) != owner:
            return False
        self.shards[shard] = (owner, now_ms + ttl_ms)
        return True

    def release(self, shard: int, owner: str) -> bool:
        held = self.shards.get(shard)
        if held is None or held[0] != owner:
            return False
        del self.shards[shard]
        return True

    def heartbeat(self, member: str, *, ttl_ms: int, now_ms: int) -> int:
        self.members[member] = now_ms + ttl_ms
        self.prune_members(now_ms)
        return len(self.members)

    def prune_members(self, now_ms: int) -> None:
        self.members = {m: until for m, until in self.members.items() if until > now_ms}
