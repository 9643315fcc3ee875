"""Change a metric on a simulator, time its arrival in a picker's view."""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from gie.events import EndpointMetricsObserved, Event
from gie.view import PoolView

__all__ = ["LagProbe", "percentile"]


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100), nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class LagProbe:
    """Feeds a :class:`PoolView` from the bus and matches probes to their first sighting."""

    pool: str
    view: PoolView = field(init=False)
    events: int = 0
    lags_s: list[float] = field(default_factory=list)
    deliveries_s: list[float] = field(default_factory=list)  # scrape start -> view
    _pending: dict[str, tuple[int, float, datetime]] = field(default_factory=dict)
    _next_value: int = 100

    def __post_init__(self) -> None:
        self.view = PoolView(self.pool)

    def on_event(self, event: Event) -> None:
        """Bus handler."""
        self.view.apply(event)
        if not isinstance(event, EndpointMetricsObserved):
            return
        self.events += 1
        pending = self._pending.get(event.address)
        if pending is not None and event.metrics.waiting_queue_size == pending[0]:
            del self._pending[event.address]
            self.lags_s.append(time.monotonic() - pending[1])
            self.deliveries_s.append((datetime.now(UTC) - event.scraped_at).total_seconds())

    async def probe(
        self, http: httpx.AsyncClient, addresses: list[str], rng: random.Random
    ) -> None:
        """Set a new, unique queue length on a random simulator with no probe in flight."""
        free = [a for a in addresses if a not in self._pending]
        if not free:
            return
        address = rng.choice(free)
        self._next_value += 1
        self._pending[address] = (self._next_value, time.monotonic(), datetime.now(UTC))
        response = await http.post(
            f"http://{address}/sim/overrides", json={"waiting": self._next_value}
        )
        response.raise_for_status()

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def summary_ms(self) -> dict[str, float]:
        lags = [lag * 1000 for lag in self.lags_s]
        deliveries = [d * 1000 for d in self.deliveries_s]
        return {
            "delivery_p50": percentile(deliveries, 50),
            "delivery_p99": percentile(deliveries, 99),
            "samples": len(lags),
            "p50": percentile(lags, 50),
            "p90": percentile(lags, 90),
            "p99": percentile(lags, 99),
            "max": max(lags, default=float("nan")),
            "mean": statistics.fmean(lags) if lags else float("nan"),
        }
