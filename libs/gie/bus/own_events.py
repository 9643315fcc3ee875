"""Events this process published, kept by payload until they come back from the stream.

A follower of a stream it also publishes to receives its own events back; the
payload bytes are exactly what it sent, so the events it already has (one, or a
batch) can be handed over instead of decoding the payload again. Bounded: an event that never
comes back (not subscribed, lost) is forgotten once ``capacity`` newer ones wait.
"""

from __future__ import annotations

from collections.abc import Sequence

from gie.events import Event


class OwnEvents:
    def __init__(self, capacity: int = 4096) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._capacity = capacity
        self._by_payload: dict[bytes, Sequence[Event]] = {}

    def __len__(self) -> int:
        return len(self._by_payload)

    def remember(self, payload: bytes, events: Sequence[Event]) -> None:
        if len(self._by_payload) >= self._capacity:
            del self._by_payload[next(iter(self._by_payload))]  # the oldest
        self._by_payload[payload] = events

    def take(self, payload: bytes) -> Sequence[Event] | None:
        """The events sent as ``payload``, once (None: not ours, or forgotten)."""
        return self._by_payload.pop(payload, None)
