"""Pure measurements of the fairness scenario: Jain's index, backlogged windows, p99.

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

__all__ = ["Sample", "jain_index", "percentile", "served_while_backlogged", "shares"]


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
