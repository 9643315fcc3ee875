"""Injectable time source for the engine.

The engine only asks a :class:`Clock` for ``now()`` and to ``sleep()``. Production uses
:class:`MonotonicClock`; tests use :class:`VirtualClock`, whose time jumps forward whenever
someone sleeps, so simulated durations can be asserted exactly and no test really waits.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "MonotonicClock", "VirtualClock"]


@runtime_checkable
class Clock(Protocol):
    """Seconds on a monotonic time line, plus a way to wait on it."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """Real time: ``time.monotonic()`` and ``asyncio.sleep``."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class VirtualClock:
    """Simulated time for tests: ``sleep(d)`` advances ``now()`` by ``d`` instantly.

    It still yields to the event loop once per sleep so other tasks (request handlers,
    the test itself) get to run between engine steps. Meant for one engine per clock:
    two engines sleeping on the same virtual clock would each push time forward.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward without sleeping (e.g. to space out request arrivals)."""
        self._now += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)
