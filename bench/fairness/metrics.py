"""Pure measurements of the fairness scenario: Jain's index, backlogged windows, p99,
rates within a common window, and a mean with its 95% confidence interval.

A request *waits* from the moment it is sent until its first token (or, if it never
got one, until the load ended). A tenant is *backlogged* at ``t`` when one of its
requests waits at ``t``. A request counts as *served while both are backlogged* when,
at its first token, the other tenant had a request waiting too (the request itself
keeps its own tenant backlogged up to that instant).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "MeanInterval",
    "Sample",
    "jain_index",
    "mean_ci95",
    "percentile",
    "rate_within",
    "served_while_backlogged",
    "shares",
]

# Two-sided 95% quantiles of Student's t by degrees of freedom (1..10); 1.96 beyond.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228)


@dataclass(frozen=True, kw_only=True, slots=True)
class Sample:
    tenant: str
    sent_at: float  # seconds since the load started
    first_token_at: float | None  # None: no first token before the load ended
    weighted_tokens: float  # input x 1 + output x 2 (virtual-token-fairness defaults)


def jain_index(values: Iterable[float]) -> float:
    """(sum x)^2 / (n * sum x^2): 1 when all are equal, 1/n when one takes everything."""
    xs = list(values)
    square_sum = sum(x * x for x in xs)
    if not xs or square_sum == 0:
        return 0.0
    return sum(xs) ** 2 / (len(xs) * square_sum)


def _waiting(samples: Sequence[Sample], end: float) -> dict[str, list[tuple[float, float]]]:
    intervals: dict[str, list[tuple[float, float]]] = {}
    for s in samples:
        stop = s.first_token_at if s.first_token_at is not None else end
        intervals.setdefault(s.tenant, []).append((s.sent_at + 0.0, stop))
    return intervals


def served_while_backlogged(
    samples: Sequence[Sample], tenants: Sequence[str], *, end: float
) -> dict[str, float]:
    """Weighted tokens each tenant got served while every other tenant was backlogged."""
    waiting = _waiting(samples, end)
    served = dict.fromkeys(tenants, 0.0)
    for s in samples:
        t = s.first_token_at
        if t is None or s.tenant not in served:
            continue
        others = [name for name in tenants if name != s.tenant]
        if all(any(a <= t < b for a, b in waiting.get(o, [])) for o in others):
            served[s.tenant] += s.weighted_tokens
    return served


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100); NaN when there are no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def shares(served: Mapping[str, float]) -> dict[str, float]:
    total = sum(served.values())
    return {name: (value / total if total else 0.0) for name, value in served.items()}


def rate_within(times: Iterable[float | None], *, start: float, end: float) -> float:
    """Events per second among ``times`` that fall in ``[start, end)`` (None: never)."""
    if end <= start:
        raise ValueError(f"the window must not be empty, got [{start}, {end})")
    return sum(1 for t in times if t is not None and start <= t < end) / (end - start)


@dataclass(frozen=True, kw_only=True, slots=True)
class MeanInterval:
    mean: float
    half_width: float  # of the 95% confidence interval; inf with fewer than two values
    count: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width


def mean_ci95(values: Sequence[float]) -> MeanInterval:
    """Mean of ``values`` and the half-width of its 95% confidence interval (Student's t)."""
    if not values:
        raise ValueError("mean_ci95 needs at least one value")
    count = len(values)
    mean = sum(values) / count
    if count == 1:
        return MeanInterval(mean=mean, half_width=math.inf, count=1)
    variance = sum((v - mean) ** 2 for v in values) / (count - 1)
    t = _T95[count - 2] if count - 1 <= len(_T95) else 1.96
    return MeanInterval(mean=mean, half_width=t * math.sqrt(variance / count), count=count)
