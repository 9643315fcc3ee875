"""Detecting lost routing events from their per-publisher sequence.

Each picker numbers its ``RequestRouted`` and its ``RequestCompleted`` events 1, 2,
3, ... (``publisher_seq``, one sequence per type; ``picker`` names the publisher). A
consumer that sees n and then n+k (k > 1) of one publisher and type missed k-1 events
(lost on the way, removed by retention, or filtered out before it). The first event
seen of a publisher starts its count (a consumer may start mid-stream); a 1 again
is a restarted publisher that kept its id (the count restarts, no gap); another
number at or below the last one is a redelivery and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gie.events import Event


@dataclass(frozen=True, slots=True)
class Gap:
    """Events ``expected`` .. ``got - 1`` of ``publisher``'s ``type`` never arrived."""

    publisher: str
    type: str
    expected: int
    got: int

    @property
    def missing(self) -> int:
        return self.got - self.expected


class GapDetector:
    """Counts gaps (``gaps``, ``missing``) and calls ``on_gap`` for each."""

    def __init__(self, on_gap: Callable[[Gap], object] | None = None) -> None:
        self._on_gap = on_gap
        self._last: dict[tuple[str, str], int] = {}
        self.gaps = 0
        self.missing = 0

    def observe(self, event: Event) -> Gap | None:
        """Note ``event``; the gap it reveals, if any (events without a sequence: None)."""
        seq = getattr(event, "publisher_seq", None)
        publisher = getattr(event, "picker", None)
        if not isinstance(seq, int) or not isinstance(publisher, str):
            return None
        key = (publisher, event.type)
        last = self._last.get(key)
        if last is not None and seq <= last and seq != 1:
            return None  # a redelivery of an older event: changes nothing
        self._last[key] = seq
        if last is None or seq <= last + 1:
            return None
        gap = Gap(publisher, event.type, last + 1, seq)
        self.gaps += 1
        self.missing += gap.missing
        if self._on_gap is not None:
            self._on_gap(gap)
        return gap
