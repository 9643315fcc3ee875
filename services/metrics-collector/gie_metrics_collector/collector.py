"""The collector's moving parts, wired together: events in, scrape loops, events out.

* the pool's state stream feeds :meth:`Collector.on_event`: endpoint membership changes
  which loops run; the last saturation, and peers' metrics when there are peers, feed the
  monitor, which also folds this replica's own metrics events as they are published;
* membership changes (:meth:`Collector.on_members`) re-split the endpoints;
* each owned endpoint has a scrape loop whose good scrapes go to the publisher, and (when
  enabled) a KV-event follower that republishes its cache changes.

Everything runs on one event loop. Re-splitting is coalesced to once per loop iteration,
so replaying hundreds of endpoint events at start-up costs one pass.
"""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from gie.clock import Clock
from gie.events import EndpointRemoved, EndpointUpserted, Event
from gie.saturation import SaturationConfig
from gie.view import PoolView
from gie_metrics_collector.ha import Ownership
from gie_metrics_collector.kv import KvSupervisor
from gie_metrics_collector.pool import PoolGauges, SaturationMonitor
from gie_metrics_collector.publish import ChangePolicy, MetricsPublisher, Outbox, PublishMetrics
from gie_metrics_collector.publish.tee_outbox import TeeOutbox
from gie_metrics_collector.scrape import (
    ScrapeMetrics,
    ScraperFactory,
    ScrapeSupervisor,
    ScrapeTarget,
    ScrapeTiming,
)
from gie_metrics_collector.settings import CollectorSettings

__all__ = ["Collector"]


class Collector:
    """One replica's collector. Build it, feed it events and member sets, run its timers."""

    def __init__(
        self,
        settings: CollectorSettings,
        *,
        saturation: SaturationConfig,
        outbox: Outbox,
        clock: Clock,
        registry: CollectorRegistry,
        kv: KvSupervisor | None = None,
    ) -> None:
        self._settings = settings
        self.kv = kv
        self._clock = clock
        self.ownership = Ownership(settings.instance_id)
        self.monitor = SaturationMonitor(
            view=PoolView(settings.pool),
            config=saturation,
            outbox=outbox,
            source=settings.instance_id,
            clock=clock,
            is_leader=lambda: self.ownership.leads_saturation,
            registry=registry,
        )
        self.publisher = MetricsPublisher(
            pool=settings.pool,
            source=settings.instance_id,
            policy=ChangePolicy(
                heartbeat_s=settings.effective_heartbeat_s(saturation),
                scrape_interval_s=settings.scrape_interval_s,
                kv_delta=settings.publish_kv_delta,
                count_delta=settings.publish_count_delta,
                saturation=saturation,
            ),
            outbox=TeeOutbox(outbox, self.monitor.apply),
            clock=clock,
            metrics=PublishMetrics(registry),
        )
        scrape_metrics = ScrapeMetrics(registry)
        factory = ScraperFactory(
            specs=settings.signal_specs(),
            default_flavour=settings.pinned_flavour,
            target=ScrapeTarget(
                path=settings.metrics_path,
                port=settings.metrics_port,
                https=settings.metrics_scheme == "https",
                timeout_s=settings.scrape_timeout_s,
                max_body=settings.max_page_bytes,
            ),
            timing=ScrapeTiming(
                interval_s=settings.scrape_interval_s,
                jitter=settings.scrape_jitter,
                backoff_max_s=settings.scrape_backoff_max_s,
            ),
            sink=self.publisher,
            clock=clock,
            metrics=scrape_metrics,
        )
        self.supervisor = ScrapeSupervisor(
            factory, metrics=scrape_metrics, on_stopped=self.publisher.forget
        )
        self._pool_gauges = PoolGauges(
            self.monitor.view, staleness_s=saturation.metrics_staleness_s, registry=registry
        )
        self._owned = Gauge(
            "gie_collector_endpoints", "Endpoints scraped by this replica.", registry=registry
        )
        self._members = Gauge(
            "gie_collector_members", "Live collector replicas of the pool.", registry=registry
        )
        self._leader = Gauge(
            "gie_collector_saturation_leader",
            "1 when this replica publishes the pool's saturation.",
            registry=registry,
        )
        self._resync_pending = False

    # -- inputs --------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        """Bus handler for the pool's state stream."""
        changed = self.monitor.apply(event)
        if changed and isinstance(event, EndpointUpserted | EndpointRemoved):
            self._schedule_resync()

    def on_members(self, members: frozenset[str]) -> None:
        """Membership listener."""
        if self.ownership.update(members):
            self._schedule_resync()

    # -- timers --------------------------------------------------------------
    async def refresh_gauges(self) -> None:
        while True:
            self._pool_gauges.refresh(self._clock.now())
            self._owned.set(len(self.supervisor.addresses))
            self._members.set(len(self.ownership.members))
            self._leader.set(1 if self.ownership.leads_saturation else 0)
            await asyncio.sleep(self._settings.gauges_interval_s)

    # -- reading ---------------------------------------------------------------
    def debug(self) -> dict[str, Any]:
        now = self._clock.monotonic()
        state = self.monitor.state
        return {
            "instance": self.ownership.me,
            "members": sorted(self.ownership.members),
            "saturation_leader": self.ownership.leads_saturation,
            "pool_endpoints": len(self.monitor.view),
            "scraped": [record.to_json(now) for record in self.supervisor.records()],
            "kv_events": [] if self.kv is None else self.kv.debug(),
            "saturation": None
            if state is None
            else {
                "saturated": state.saturated,
                "cause": state.cause,
                "endpoints_with_capacity": state.with_capacity,
                "endpoints_total": state.total,
                "stale": state.stale,
                "reason": state.reason,
            },
        }

    # -- internals -------------------------------------------------------------
    def _schedule_resync(self) -> None:
        if not self._resync_pending:
            self._resync_pending = True
            asyncio.get_running_loop().call_soon(self._resync)

    def _resync(self) -> None:
        self._resync_pending = False
        owns = self.ownership.owns
        owned = {s.address: s.endpoint for s in self.monitor.view.endpoints() if owns(s.address)}
        self.supervisor.sync(owned)
        if self.kv is not None:
            self.kv.sync(owned)
