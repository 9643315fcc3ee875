"""Arrival times of an open-loop load: a Poisson process at a given rate.

The gaps of one seeded unit-rate process are divided by the rate, so every rate of a
sweep sends the same requests in the same order, only faster or slower.
"""

from __future__ import annotations

import random

__all__ = ["poisson_offsets"]


def poisson_offsets(count: int, *, rate: float, seed: int) -> list[float]:
    """Seconds from the start at which each of ``count`` requests is due; the first at 0."""
    if rate <= 0:
        raise ValueError(f"rate must be > 0 requests/s, got {rate}")
    rng = random.Random(seed)
    offsets, now = [], 0.0
    for _ in range(count):
        offsets.append(now / rate)
        now += rng.expovariate(1.0)
    return offsets
