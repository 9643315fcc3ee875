"""How the picker reads the event stream once caught up: in bursts.

A routing decision first settles the connection, so it sees the events that had
arrived (the process is awake anyway, and reads all of them at once); otherwise
the stream is read at least every ``GIE_EVENT_READ_DELAY_S`` (see
:mod:`gie.bus.read_gate`). Settling is itself a read, and under load a read per
decision is most of what following the other replicas costs (small reads, each
handled on its own, and the loop iterations a settle waits for): a decision made
within ``GIE_EVENT_SETTLE_INTERVAL_S`` of the last settle does not settle again.
Its own replica's decisions are always counted at once (``fold_own``); the other
replicas' reach it at most that much later than they reach the socket. Before
:meth:`EventReading.start` this is a no-op: events are read as they arrive.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gie.bus.read_gate import ReadGate


class EventReading:
    def __init__(
        self, *, min_interval_s: float = 0.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if min_interval_s < 0:
            raise ValueError("min_interval_s must be >= 0")
        self._gate: ReadGate | None = None
        self._min_interval_s = min_interval_s
        self._clock = clock
        self._last = -float("inf")
        self.settles = 0  # decisions that settled (for tests)

    def start(self, gate: ReadGate) -> None:
        self._gate = gate

    async def settle(self) -> None:
        if self._gate is None:
            return
        if self._min_interval_s:
            now = self._clock()
            if now - self._last < self._min_interval_s:
                return
            self._last = now
        self.settles += 1
        await self._gate.settle()
