"""``GET /debug/view``: the picker's current view, for operators."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from gie.prefix import PrefixIndex
from gie.saturation import SaturationConfig, has_capacity, is_stale, pool_saturation
from gie.view import InFlightView, PoolView


def render_view(
    view: PoolView,
    config: SaturationConfig,
    now: Callable[[], datetime],
    inflight: InFlightView | None = None,
    prefix_index: PrefixIndex | None = None,
) -> dict[str, Any]:
    moment = now()
    states = view.endpoints()
    saturation = pool_saturation(states, now=moment, config=config)
    return {
        "pool": view.pool,
        "digest": view.digest(),
        "applied_events": view.applied_events,
        "saturation": {
            "saturated": saturation.saturated,
            "endpoints_with_capacity": saturation.with_capacity,
            "endpoints_total": saturation.total,
            "reason": saturation.reason,
        },
        "objectives": view.objectives(),
        "prefix_index": (
            {
                "blocks": prefix_index.size,
                "endpoints": len(prefix_index.endpoints()),
                "digest": prefix_index.digest(),
            }
            if prefix_index is not None
            else None
        ),
        "in_flight": (
            {
                "requests": len(inflight),
                "per_endpoint": inflight.counts(),
                "digest": inflight.digest(),
            }
            if inflight is not None
            else None
        ),
        "endpoints": [
            {
                "address": state.address,
                "name": state.endpoint.name,
                "labels": state.endpoint.labels,
                "metrics": state.metrics.model_dump(mode="json") if state.metrics else None,
                "scraped_at": state.scraped_at.isoformat() if state.scraped_at else None,
                "age_s": (moment - state.scraped_at).total_seconds() if state.scraped_at else None,
                "stale": is_stale(state, now=moment, config=config),
                "has_capacity": has_capacity(state, now=moment, config=config),
            }
            for state in states
        ],
    }
