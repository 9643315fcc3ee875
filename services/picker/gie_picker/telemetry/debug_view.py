"""``GET /debug/view``: the picker's current view, for operators.

Rendered on the event loop that feeds the view (the view is read between two
events). The prefix index, up to millions of hashes, is copied a slice at a time
and its digest computed in a worker thread, so the page never stalls routing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from gie.prefix import PreciseIndex, PrefixIndex, entries_digest
from gie.saturation import SaturationConfig, has_capacity, is_stale, pool_saturation
from gie.view import InFlightView, PoolView
from gie_picker.prefixcache.snapshots import copy_index


async def render_view(
    view: PoolView,
    config: SaturationConfig,
    now: Callable[[], datetime],
    inflight: InFlightView | None = None,
    prefix_index: PrefixIndex | None = None,
    *,
    precise_index: PreciseIndex | None = None,
    positions: Callable[[], Mapping[str, int]] | None = None,
) -> dict[str, Any]:
    """The page; ``positions()`` gives the stream sequence each following last applied
    (by following name), read at the same instant as the view's digest, so two
    replicas' digests can be compared at equal positions."""
    prefix = await _prefix_summary(prefix_index) if prefix_index is not None else None
    moment = now()  # the rest is read at one instant, after the prefix index's copy
    states = view.endpoints()
    saturation = pool_saturation(states, now=moment, config=config)
    return {
        "pool": view.pool,
        "digest": view.digest(),
        "applied_events": view.applied_events,
        "positions": dict(positions()) if positions is not None else {},
        "saturation": {
            "saturated": saturation.saturated,
            "endpoints_with_capacity": saturation.with_capacity,
            "endpoints_total": saturation.total,
            "reason": saturation.reason,
        },
        "objectives": view.objectives(),
        "model_rewrites": [  # oldest first: the order that breaks ties between rules
            {
                "name": rewrite.name,
                "created": rewrite.created.isoformat(),
                "rules": [rule.model_dump(mode="json") for rule in rewrite.rules],
            }
            for rewrite in view.rewrites()
        ],
        "prefix_index": prefix,
        # What the model servers' KV events say, per endpoint (run, last batch, whether
        # known, block size, blocks held).
        "precise_prefix_index": precise_index.debug() if precise_index is not None else None,
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


async def _prefix_summary(index: PrefixIndex) -> dict[str, Any]:
    endpoints = await copy_index(index)
    return {
        "blocks": sum(len(endpoint.hashes) for endpoint in endpoints),
        "endpoints": len(endpoints),
        "digest": await asyncio.to_thread(entries_digest, endpoints),
    }
