"""CapacityGate: may a request be dispatched now? Upstream's saturation rule, per request.

A request may go when one of its candidate endpoints (every endpoint of the pool when it
names none) has capacity by :func:`gie.saturation.has_capacity` (fresh metrics, waiting
queue and KV-cache utilisation under the thresholds), and the room those endpoints
report is not already used by requests this replica dispatched since they were scraped.
The room of an endpoint with capacity is ``queueDepthThreshold - waiting + 1``.

Reads the :class:`~gie.view.PoolView` folded from the state stream; no I/O. Runs on the
service's event loop (the view's feeder and the workers share it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from gie.saturation import SaturationConfig, has_capacity
from gie.view import EndpointState, PoolView
from gie_flow_controller.gate.ledger import DispatchLedger


class Gate(Protocol):
    """What a shard worker asks before dispatching."""

    def has_capacity(self, candidates: tuple[str, ...]) -> bool: ...

    def note_dispatch(self) -> None: ...


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
        self._ledger = DispatchLedger(horizon_s=max(config.metrics_staleness_s * 2, 1.0))

    def _states(self, candidates: tuple[str, ...]) -> list[EndpointState]:
        if not candidates:
            return self._view.endpoints()
        found = (self._view.get(address) for address in candidates)
        return [state for state in found if state is not None]

    def has_capacity(self, candidates: tuple[str, ...]) -> bool:
        now = self._now()
        capable = [
            state
            for state in self._states(candidates)
            if has_capacity(state, now=now, config=self._config)
        ]
        if not capable:
            return False
        room = 0
        for state in capable:
            assert state.metrics is not None  # has_capacity needs metrics
            room += self._config.queue_depth_threshold - state.metrics.waiting_queue_size + 1
        oldest = min(state.scraped_at for state in capable if state.scraped_at is not None)
        return self._ledger.count_since(oldest, now=now) < room

    def note_dispatch(self) -> None:
        self._ledger.note(self._now())


class OpenGate:
    """Always has capacity (tests, and flow control without a saturation signal)."""

    def has_capacity(self, candidates: tuple[str, ...]) -> bool:
        return True

    def note_dispatch(self) -> None:
        return None
