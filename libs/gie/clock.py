"""Injected time: one clock for every service, the simulator and their tests.

::

    Clock (protocol)
    ├── SystemClock   the real clocks: time.monotonic, the UTC wall clock, asyncio.sleep
    └── ManualClock   time moves only when told to: advance(), or sleep(), which advances

A clock has two time lines. The **monotonic** one (``monotonic()``, seconds) never jumps:
intervals, ages and deadlines inside one process. The **wall** one (``now()``, an aware
UTC datetime, or ``now_ms()``, whole milliseconds since the Unix epoch) has a meaning
shared across replicas: event times, leases and deadlines kept in shared state.
``sleep(seconds)`` waits on the monotonic line.

Code that needs time takes a :class:`Clock` in its constructor (built in the service's
``app.py``) so tests can pass a :class:`ManualClock`. Concurrency: one event loop;
every method may be called from any task on it.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Clock(Protocol):
    """Time as a service, the simulator or a test wants it to pass.

    ``monotonic()`` MUST never decrease; ``now()`` MUST be timezone-aware UTC and agree
    with ``now_ms()``. No method raises."""

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (intervals, ages, deadlines)."""
        ...

    def now(self) -> datetime:
        """The current UTC wall-clock time (timestamps carried by events)."""
        ...

    def now_ms(self) -> int:
        """The wall clock in whole milliseconds since the Unix epoch (shared state)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on the monotonic line (a negative wait does not wait)."""
        ...


class SystemClock:
    """Real time."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told to, for tests and simulations.

    Both time lines move together: :meth:`advance` by hand, or :meth:`sleep`, which
    advances at once and yields to the event loop once, so other tasks run between the
    sleeper's steps and no test really waits. Meant for one sleeper per clock: two tasks
    sleeping on the same clock would each push time forward."""

    def __init__(self, now_ms: int = 1_700_000_000_000, *, monotonic: float = 0.0) -> None:
        self._wall_ns = now_ms * 1_000_000
        self._monotonic = monotonic

    def monotonic(self) -> float:
        return self._monotonic

    def now(self) -> datetime:
        return _EPOCH + timedelta(microseconds=self._wall_ns // 1_000)

    def now_ms(self) -> int:
        return self._wall_ns // 1_000_000

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``; ValueError if negative (time never goes back)."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go back: advance({seconds!r})")
        self._monotonic += seconds
        self._wall_ns += round(seconds * 1e9)

    async def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)
