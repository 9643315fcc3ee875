"""The pool's saturation as the collector reports it: upstream's rule plus a cause.

``cause`` tells apart the ways a pool can be saturated, because consumers must react
differently: ``overloaded`` (fresh metrics say every endpoint is full: shed or queue) and
``all-stale`` (no endpoint has fresh metrics: load is unknown, so admission falls back to
in-flight counts instead of rejecting everything). Every ``PoolSaturationChanged.reason``
the collector publishes starts with the cause and a colon, e.g.
``"all-stale: every endpoint's metrics are older than 200ms; ..."``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gie.config.durations import format_duration
from gie.saturation import SaturationConfig, pool_saturation
from gie.view import EndpointState
from gie.view.staleness import staleness

__all__ = ["CAUSES", "PoolState", "assess_pool", "cause_of_reason"]

CAUSES = ("capacity", "overloaded", "all-stale", "no-endpoints")


@dataclass(frozen=True, slots=True)
class PoolState:
    saturated: bool
    cause: str
    with_capacity: int
    total: int
    stale: int
    reason: str

    @property
    def key(self) -> tuple[bool, str]:
        """What a change must alter to be published: counts alone are not news."""
        return self.saturated, self.cause


def assess_pool(
    states: Sequence[EndpointState], *, now: datetime, config: SaturationConfig
) -> PoolState:
    result = pool_saturation(states, now=now, config=config)
    stale = staleness(states, now=now, threshold_s=config.metrics_staleness_s)
    total, n_stale = result.total, len(stale.stale)
    if not result.saturated:
        cause, text = "capacity", f"{result.with_capacity} of {total} endpoints have capacity"
    elif not total:
        cause, text = "no-endpoints", "the pool has no endpoints"
    elif stale.all_stale:
        cause = "all-stale"
        text = (
            f"every endpoint's metrics are older than "
            f"{format_duration(config.metrics_staleness_s)}; "
            "admission falls back to in-flight counts"
        )
    else:
        cause = "overloaded"
        text = (
            f"every fresh endpoint is over queue depth {config.queue_depth_threshold} "
            f"or KV-cache utilisation {config.kv_cache_util_threshold}"
            + (f" ({n_stale} of {total} stale)" if n_stale else "")
        )
    return PoolState(
        result.saturated, cause, result.with_capacity, total, n_stale, f"{cause}: {text}"
    )


def cause_of_reason(reason: str) -> str:
    """The cause a published reason starts with ('' for reasons of other publishers)."""
    cause, sep, _ = reason.partition(":")
    return cause if sep and cause in CAUSES else ""
