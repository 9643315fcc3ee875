"""Rendezvous (highest-random-weight) hashing: which live replica owns which endpoint.

Every replica computes the same owner from the same member set, without talking to the
others. When a member leaves, only its endpoints move (each to the member that ranks next
for it); when one joins, it takes about 1/N of the endpoints from the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["SATURATION_KEY", "Ownership", "rendezvous_owner"]

# The pool-level job (publishing saturation) is owned like an endpoint, under this key.
SATURATION_KEY = "gie/pool-saturation"


def _weight(member: str, key: str) -> int:
    digest = hashlib.blake2b(f"{member}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def rendezvous_owner(key: str, members: Iterable[str]) -> str | None:
    """The member with the highest weight for ``key`` (ties by name); None without members."""
    return max(members, key=lambda member: (_weight(member, key), member), default=None)


class Ownership:
    """This replica's share of the work, for the current member set."""

    def __init__(self, me: str) -> None:
        self.me = me
        self._members = frozenset({me})
        self._owners: dict[str, str] = {}

    @property
    def members(self) -> frozenset[str]:
        return self._members

    def update(self, members: Iterable[str]) -> bool:
        """Adopt a new member set (this replica is always in it); True when it changed."""
        new = frozenset(members) | {self.me}
        if new == self._members:
            return False
        self._members, self._owners = new, {}
        return True

    def owner(self, key: str) -> str:
        owner = self._owners.get(key)
        if owner is None:
            owner = self._owners[key] = rendezvous_owner(key, self._members) or self.me
        return owner

    def owns(self, key: str) -> bool:
        return self.owner(key) == self.me

    @property
    def leads_saturation(self) -> bool:
        return self.owns(SATURATION_KEY)
