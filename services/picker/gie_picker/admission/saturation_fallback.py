"""Saturation when every endpoint's metrics are stale: judged by requests in flight.

Stale metrics mean the load is unknown, not that the pool is full; treating
them as full (upstream's rule alone) would shed every sheddable request while
the collector or the servers' metrics pages are down. In that case an endpoint
counts as having capacity while the requests in flight to it (from every
picker replica's routing events) are at most what it was last seen running
plus the queue-depth threshold; an endpoint never scraped, while at most the
queue-depth threshold are in flight.
"""

from __future__ import annotations

from collections.abc import Sequence

from gie.saturation import Saturation, SaturationConfig
from gie.view import EndpointState
from gie_picker.scheduling.contracts import InFlightCounts


def inflight_capacity(
    state: EndpointState, inflight: InFlightCounts, config: SaturationConfig
) -> bool:
    running = state.metrics.running_requests if state.metrics is not None else 0
    return inflight.count(state.address) <= running + config.queue_depth_threshold


def inflight_saturation(
    candidates: Sequence[EndpointState], inflight: InFlightCounts, config: SaturationConfig
) -> Saturation:
    capable = [s for s in candidates if inflight_capacity(s, inflight, config)]
    reason = (
        f"metrics stale on every endpoint; by requests in flight {len(capable)} of "
        f"{len(candidates)} endpoints have capacity"
    )
    return Saturation(not capable, len(capable), len(candidates), reason)
