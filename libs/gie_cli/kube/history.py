"""The retained history of changes, for watches that resume from a resourceVersion.

The newest ``capacity`` changes are kept (etcd keeps changes until compaction; the real
API server's watch cache keeps a window too). A watch may resume from any version
at or after :attr:`History.oldest_servable`; older ones are *expired* (410 Gone) and the
client must list again. After a restart the history starts empty at the restored
version, so watches from before the restart are expired, as after an etcd compaction.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["Change", "History"]

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"


@dataclass(frozen=True, slots=True)
class Change:
    """One write: ``obj`` is the object after it (for DELETED, its last state at the
    deletion's version), ``prev`` the object before (None for ADDED)."""

    type: str
    key: tuple[str, str]
    namespace: str
    name: str
    rv: int
    obj: dict[str, Any]
    prev: dict[str, Any] | None


class History:
    """A window of the latest changes. Not thread-safe: used on the server's loop."""

    def __init__(self, capacity: int, start_rv: int) -> None:
        if capacity < 1:
            raise ValueError(f"history capacity must be >= 1, got {capacity}")
        self._changes: deque[Change] = deque()
        self._capacity = capacity
        self._oldest_servable = start_rv

    @property
    def oldest_servable(self) -> int:
        """The oldest version a watch may resume from (every later change is held)."""
        return self._oldest_servable

    def append(self, change: Change) -> None:
        self._changes.append(change)
        while len(self._changes) > self._capacity:
            dropped = self._changes.popleft()
            self._oldest_servable = dropped.rv

    def covers(self, rv: int) -> bool:
        return rv >= self._oldest_servable

    def since(self, rv: int) -> Iterator[Change]:
        """Changes after version ``rv``, oldest first (``covers(rv)`` must hold)."""
        return (change for change in self._changes if change.rv > rv)

    def newest_first_since(self, rv: int) -> list[Change]:
        return [change for change in reversed(self._changes) if change.rv > rv]
