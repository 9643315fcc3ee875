"""What the collector needs to know about its peers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

__all__ = ["Membership", "MembershipListener"]

MembershipListener = Callable[[frozenset[str]], None]


class Membership(Protocol):
    """The live collector replicas of one pool.

    ``members`` always contains this replica. Listeners run on the event loop whenever
    the set changes; they MUST NOT block. Use as an async context manager: entering
    returns once the initial member set is known, leaving announces the departure.
    """

    @property
    def members(self) -> frozenset[str]: ...

    def on_change(self, listener: MembershipListener) -> None: ...

    async def __aenter__(self) -> Membership: ...

    async def __aexit__(self, *exc: object) -> None: ...
