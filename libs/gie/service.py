"""What every gie service sets up the same way: logs, metrics, admin app, bus.

Usage in a service's ``app.py``::

    async with ServiceKit("picker", settings) as kit:
        ...  # build features from kit.bus, kit.registry, kit.health
        await stop.wait()

Entering starts the admin app first (so ``/healthz`` answers while the bus is
still being reached), then connects to NATS and sets up the streams. Leaving
closes the bus, then the admin app. ``/readyz`` fails while NATS is down.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

import structlog
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from gie.bus import BusMetrics, NatsEventBus
from gie.config import ServiceSettings
from gie.events.cloudevents import source_of
from gie.telemetry import AdminServer, Health, build_admin_app, configure_logging


class ServiceKit:
    """The shared parts of one service process."""

    def __init__(self, service: str, settings: ServiceSettings) -> None:
        configure_logging(level=settings.log_level, fmt=settings.log_format, service=service)
        self.service = service
        self.settings = settings
        self.log = structlog.get_logger(f"gie.{service}")
        self.registry = CollectorRegistry()
        self.health = Health()
        self.bus_metrics = BusMetrics(self.registry)
        self.bus = NatsEventBus(
            settings.nats_url,
            name=f"gie-{service}-{settings.instance_id}",
            metrics=self.bus_metrics,
            connect_timeout_s=settings.nats_connect_timeout_s,
            stream_replicas=settings.stream_replicas,
            ce_source=source_of(service, settings.instance_id),
        )
        self.admin_app: FastAPI = build_admin_app(
            service=service, health=self.health, registry=self.registry
        )
        self._admin = AdminServer(
            self.admin_app, host=settings.admin_host, port=settings.admin_port
        )
        self.health.add_check("nats", lambda: None if self.bus.connected else "not connected")
        self.health.add_check(
            "event streams", lambda: self.bus.stale_followings(settings.max_view_lag_s)
        )

    async def __aenter__(self) -> Self:
        await self._admin.start()
        self.log.info(
            "starting",
            pool=self.settings.pool,
            instance=self.settings.instance_id,
            admin_port=self._admin.port,
        )
        try:
            await self.bus.connect()
            await self.bus.ensure_streams()
        except BaseException:
            await self._admin.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.health.alive = False
        await self.bus.close()
        await self._admin.stop()
        self.log.info("stopped")
