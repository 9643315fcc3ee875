"""How old each endpoint's metrics are, and whether the pool has any fresh ones.

Staleness is judged by the consumer, at read time, from ``scraped_at``: metrics older than
the threshold (upstream's ``metricsStalenessThreshold``, 200 ms by default) are stale, and
so are endpoints never scraped. A pool whose endpoints are *all* stale has no load signal
at all; consumers must not treat that like a pool that is full (see ``all_stale``).
Pure functions: no clock is read here, ``now`` is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from gie.view.pool_view import EndpointState

__all__ = ["FUTURE_TOLERANCE_S", "Staleness", "is_stale_after", "metrics_age_s", "staleness"]

# Metrics scraped more than this far in the reader's future come from a clock that is
# ahead: they are stale, not fresh. (The newest scrape wins when folding, so until real
# time catches up they would also hide every correct scrape.)
FUTURE_TOLERANCE_S = 1.0


def metrics_age_s(state: EndpointState, *, now: datetime) -> float | None:
    """Seconds since the endpoint's metrics were scraped; None when never scraped."""
    if state.scraped_at is None or state.metrics is None:
        return None
    return (now - state.scraped_at).total_seconds()


def is_stale_after(state: EndpointState, *, now: datetime, threshold_s: float) -> bool:
    """True when the endpoint has no metrics or they are older than ``threshold_s``."""
    age = metrics_age_s(state, now=now)
    return age is None or age > threshold_s or age < -FUTURE_TOLERANCE_S


@dataclass(frozen=True, slots=True)
class Staleness:
    """Endpoints split by the freshness of their metrics (addresses, sorted)."""

    fresh: tuple[str, ...]
    stale: tuple[str, ...]

    @property
    def total(self) -> int:
        return len(self.fresh) + len(self.stale)

    @property
    def all_stale(self) -> bool:
        """Endpoints exist but none has fresh metrics: load is unknown, not high."""
        return bool(self.stale) and not self.fresh


def staleness(states: Iterable[EndpointState], *, now: datetime, threshold_s: float) -> Staleness:
    fresh: list[str] = []
    stale: list[str] = []
    for state in states:
        stale_now = is_stale_after(state, now=now, threshold_s=threshold_s)
        (stale if stale_now else fresh).append(state.address)
    return Staleness(tuple(sorted(fresh)), tuple(sorted(stale)))
