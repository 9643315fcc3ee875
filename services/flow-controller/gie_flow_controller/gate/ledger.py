"""DispatchLedger: when this replica dispatched, to count what recent metrics miss."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta


class DispatchLedger:
    """Recent dispatch times of this replica, forgotten after ``horizon_s``.

    A scrape taken at ``t`` cannot show requests dispatched after ``t``; the gate adds
    those to the endpoints' queues so one fresh reading is not spent many times over.
    """

    def __init__(self, *, horizon_s: float) -> None:
        self._horizon = timedelta(seconds=horizon_s)
        self._times: deque[datetime] = deque()

    def note(self, at: datetime) -> None:
        self._times.append(at)

    def count_since(self, since: datetime, *, now: datetime) -> int:
        while self._times and self._times[0] < now - self._horizon:
            self._times.popleft()
        return sum(1 for at in self._times if at >= since)
