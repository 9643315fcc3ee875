"""Events this process published, kept by payload until they come back from the stream.

A follower of a stream it also publishes to receives its own events back; the
payload bytes are exactly what it sent, so the events it already has (one, or a
batch) can be handed over instead of decoding the payload again. Bounded: an event that never
comes back (not subscribed, lost) is forgotten once ``capacity`` newer ones wait.

Looked up by the payload's head (it holds the first event's id, unique per event),
then compared whole: every payload that arrives is looked up, most of them other
processes', and hashing a head costs a fraction of hashing a whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence

from gie.events import Event

_HEAD = 64  # bytes: past the first event's id in a single event and in a batch


class OwnEvents:
    def __init__(self, capacity: int = 4096) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._capacity = capacity
        self._by_head: dict[bytes, tuple[bytes, Sequence[Event]]] = {}

    def __len__(self) -> int:
        return len(self._by_head)

    def remember(self, payload: bytes, events: Sequence[Event]) -> None:
        if len(self._by_head) >= self._capacity:
            del self._by_head[next(iter(self._by_head))]  # the oldest
        self._by_head[payload[:_HEAD]] = (payload, events)

    def take(self, payload: bytes) -> Sequence[Event] | None:
        """The events sent as ``payload``, once (None: not ours, or forgotten)."""
        head = payload[:_HEAD]
        entry = self._by_head.get(head)
        if entry is None or entry[0] != payload:
            return None
        del self._by_head[head]
        return entry[1]
