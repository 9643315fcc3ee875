"""Recently seen event ids, bounded: the consumer SDK's deduplication."""

from __future__ import annotations


class RecentIds:
    """The last ``capacity`` ids added (oldest forgotten first). A duplicate older
    than that is not recognised: size it above the events a redelivery can span
    (what arrives within the consumer's ack wait)."""

    def __init__(self, capacity: int = 100_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._capacity = capacity
        self._ids: dict[str, None] = {}

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, event_id: str) -> None:
        if event_id in self._ids:
            return
        if len(self._ids) >= self._capacity:
            del self._ids[next(iter(self._ids))]
        self._ids[event_id] = None
