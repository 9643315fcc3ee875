"""Injectable time: a monotonic clock for intervals and a UTC wall clock for event times."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (intervals, ages, deadlines)."""

    def now(self) -> datetime:
        """The current UTC time (timestamps carried by events)."""


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)
