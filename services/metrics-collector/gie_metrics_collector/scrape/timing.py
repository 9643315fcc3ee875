"""When the next scrape of an endpoint starts: interval, jitter and backoff."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["ScrapeTiming"]


@dataclass(frozen=True, slots=True)
class ScrapeTiming:
    """Period between scrape starts, randomised by ``jitter`` (a fraction of it).

    After ``failures`` consecutive failures the period doubles each time, up to
    ``backoff_max_s``, so dead endpoints cost little; one success resets it.
    """

    interval_s: float
    jitter: float = 0.1
    backoff_max_s: float = 2.0

    def __post_init__(self) -> None:
        if self.interval_s <= 0 or not 0 <= self.jitter < 1 or self.backoff_max_s <= 0:
            raise ValueError(f"invalid scrape timing {self}")

    def period(self, failures: int, rng: random.Random) -> float:
        """Seconds from the start of one scrape to the start of the next."""
        base = self.interval_s
        if failures > 0:
            base = min(base * 2 ** min(failures, 30), max(self.backoff_max_s, base))
        return base * (1.0 + rng.uniform(-self.jitter, self.jitter))

    def first_delay(self, rng: random.Random) -> float:
        """Delay before an endpoint's first scrape, spreading loops over one interval."""
        return rng.uniform(0.0, self.interval_s)
