"""Watch the whole pool's metrics and publish ``PoolSaturationChanged`` when it flips.

Every replica folds the pool's state stream (endpoints, every replica's metrics, the last
published saturation) into a :class:`~gie.view.PoolView` and assesses it on a timer, so
that staleness is noticed even when no event arrives. Only the saturation leader (chosen
by rendezvous hashing among live replicas) publishes, and only when the assessment differs
from the latest ``PoolSaturationChanged`` on the bus, so a new leader converges on the
truth without repeating it. Publishing starts one staleness threshold after the replay,
so a restart does not announce a spurious ``all-stale``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge

from gie.clock import Clock
from gie.events import Event, PoolSaturationChanged
from gie.events.subjects import saturation_subject
from gie.saturation import SaturationConfig
from gie.view import PoolView
from gie_metrics_collector.pool.pool_state import PoolState, assess_pool, cause_of_reason
from gie_metrics_collector.publish import Outbox

__all__ = ["SaturationMonitor"]

_log = structlog.get_logger("gie.metrics_collector.saturation")


class SaturationMonitor:
    """One per collector. ``apply`` is the bus handler; ``run`` is the timer task."""

    def __init__(
        self,
        *,
        view: PoolView,
        config: SaturationConfig,
        outbox: Outbox,
        source: str,
        clock: Clock,
        is_leader: Callable[[], bool],
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.view = view
        self._config = config
        self._outbox = outbox
        self._source = source
        self._clock = clock
        self._is_leader = is_leader
        self._armed_at: float | None = None
        self._on_bus: tuple[bool, str] | None = None
        self.state: PoolState | None = None
        labels = {"name": view.pool}
        self._saturated = Gauge(
            "gie_pool_saturated", "1 when no endpoint has capacity.", ["name"], registry=registry
        ).labels(**labels)
        self._all_stale = Gauge(
            "gie_pool_all_stale",
            "1 when every endpoint's metrics are stale (consumers fall back to in-flight counts).",
            ["name"],
            registry=registry,
        ).labels(**labels)
        self._changes = Counter(
            "gie_pool_saturation_changes_total",
            "PoolSaturationChanged events published by this replica, by cause.",
            ["name", "cause"],
            registry=registry,
        )

    def apply(self, event: Event) -> bool:
        """Fold one event of the pool's state stream; True when the view changed."""
        if isinstance(event, PoolSaturationChanged):
            if event.pool == self.view.pool:
                self._on_bus = (event.saturated, cause_of_reason(event.reason))
            return False
        return self.view.apply(event)

    def arm(self, delay_s: float) -> None:
        """Allow publishing ``delay_s`` from now (call once the replay is done)."""
        self._armed_at = self._clock.monotonic() + delay_s

    async def run(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            self.evaluate()

    def evaluate(self) -> PoolSaturationChanged | None:
        """Assess the pool now; publish (and return) the event when it flipped."""
        state = assess_pool(self.view.endpoints(), now=self._clock.now(), config=self._config)
        self.state = state
        self._saturated.set(1 if state.saturated else 0)
        self._all_stale.set(1 if state.cause == "all-stale" else 0)
        armed = self._armed_at is not None and self._clock.monotonic() >= self._armed_at
        previous = self._on_bus
        if not armed or not self._is_leader() or state.key == previous:
            return None
        event = PoolSaturationChanged(
            source=self._source,
            pool=self.view.pool,
            saturated=state.saturated,
            endpoints_with_capacity=state.with_capacity,
            endpoints_total=state.total,
            reason=state.reason,
        )
        self._outbox.submit(saturation_subject(self.view.pool), event)
        self._on_bus = state.key
        self._changes.labels(self.view.pool, state.cause).inc()
        log = _log.warning if state.cause == "all-stale" else _log.info
        log(
            "pool saturation changed",
            pool=self.view.pool,
            saturated=state.saturated,
            cause=state.cause,
            endpoints_with_capacity=state.with_capacity,
            endpoints_total=state.total,
            stale=state.stale,
            previous_cause=previous[1] if previous else None,
            reason=state.reason,
        )
        return event
