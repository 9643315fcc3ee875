"""CapacityGate: may a request be dispatched now? Upstream's saturation rule, per request.

A request may go when one of its candidate endpoints (every endpoint of the pool when it
names none) has capacity by :func:`gie.saturation.has_capacity` (fresh metrics, waiting
queue and KV-cache utilisation under the thresholds). The gate answers the *room* those
endpoints show, ``queueDepthThreshold - waiting + 1`` each, and when the oldest of their
metrics was scraped; the dispatch step checks it atomically against the requests any
replica dispatched since then and that are still in flight (the metrics cannot show
them yet), so one reading is not spent many times, by one replica or by several.

Reads the :class:`~gie.view.PoolView` folded from the state stream; no I/O. Runs on the
service's event loop (the view's feeder and the workers share it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from gie.saturation import SaturationConfig, has_capacity
from gie.view import EndpointState, PoolView
from gie_flow_controller.model import Room


class Gate(Protocol):
    """What a shard worker asks before dispatching."""

    def room(self, candidates: tuple[str, ...]) -> Room | None:
        """None: no candidate has capacity now. Otherwise the room to check at dispatch."""


class CapacityGate:
    def __init__(
        self,
        view: PoolView,
        config: SaturationConfig,
        *,
        now: Callable[[], datetime],
    ) -> None:
        self._view = view
        self._config = config
        self._now = now

    def _states(self, candidates: tuple[str, ...]) -> list[EndpointState]:
        if not candidates:
            return self._view.endpoints()
        found = (self._view.get(address) for address in candidates)
        return [state for state in found if state is not None]

    def room(self, candidates: tuple[str, ...]) -> Room | None:
        now = self._now()
        capable = [
            state
            for state in self._states(candidates)
            if has_capacity(state, now=now, config=self._config)
        ]
        if not capable:
            return None
        slots = 0
        for state in capable:
            assert state.metrics is not None  # has_capacity needs metrics
            slots += self._config.queue_depth_threshold - state.metrics.waiting_queue_size + 1
        oldest = min(state.scraped_at for state in capable if state.scraped_at is not None)
        return Room(slots, since_ms=round(oldest.timestamp() * 1000))


class OpenGate:
    """Always has room (tests, and flow control without a saturation signal)."""

    def room(self, candidates: tuple[str, ...]) -> Room | None:
        return Room.unlimited()
