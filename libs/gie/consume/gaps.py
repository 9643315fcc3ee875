"""Detecting lost routing events from their per-publisher sequence.

Each picker numbers its ``RequestRouted`` and its ``RequestCompleted`` events 1, 2,
3, ... (``publisher_seq``, one sequence per type; ``picker`` names the publisher). A
consumer that sees n and then n+k (k > 1) of one publisher and type missed k-1 events
(lost on the way, removed by retention, or filtered out before it). The first event
seen of a publisher starts its count (a consumer may start mid-stream).

A publisher that restarts keeps its name but numbers from 1 again. Its events then
carry another run: the first 16 hex digits of their ``event_id``, drawn at random by
each process. A run seen after another one of the same publisher counts from 1 (its
first events missing are a gap); an event of an earlier run, or of the current run at
or below its last number, is a redelivery and changes nothing. Events whose id does not
have that shape are told apart by their numbers alone: a 1 again is a restart.
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

    # Earlier runs remembered per publisher and type (their redeliveries are ignored).
    RUNS_KEPT = 8

    def __init__(self, on_gap: Callable[[Gap], object] | None = None) -> None:
        self._on_gap = on_gap
        self._last: dict[tuple[str, str], int] = {}
        self._runs: dict[tuple[str, str], list[str | None]] = {}  # newest last
        self.gaps = 0
        self.missing = 0

    def observe(self, event: Event) -> Gap | None:
        """Note ``event``; the gap it reveals, if any (events without a sequence: None)."""
        seq = getattr(event, "publisher_seq", None)
        publisher = getattr(event, "picker", None)
        if not isinstance(seq, int) or not isinstance(publisher, str):
            return None
        key = (publisher, event.type)
        run = _run_of(event.event_id)
        runs = self._runs.setdefault(key, [])
        last = self._last.get(key)
        if last is None:
            expected = None  # the first event seen of this publisher starts the count
        elif run is not None and runs and run != runs[-1]:
            if run in runs:
                return None  # a redelivery from an earlier run
            expected = 1  # a new run numbers from 1
        elif seq <= last and not (seq == 1 and run is None):
            return None  # a redelivery of an older event: changes nothing
        else:
            expected = 1 if seq == 1 else last + 1
        if not runs or runs[-1] != run:
            runs.append(run)
            del runs[: -self.RUNS_KEPT]
        self._last[key] = seq
        if expected is None or seq <= expected:
            return None
        gap = Gap(publisher, event.type, expected, seq)
        self.gaps += 1
        self.missing += gap.missing
        if self._on_gap is not None:
            self._on_gap(gap)
        return gap


def _run_of(event_id: str) -> str | None:
    """The publishing process's run: the random prefix of a 32-hex-digit event id."""
    if len(event_id) != 32:
        return None
    prefix = event_id[:16]
    return prefix if all(c in "0123456789abcdef" for c in prefix) else None
