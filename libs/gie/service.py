"""What every gie service sets up the same way: logs, metrics, admin app, bus.

Usage in a service's ``app.py``::

    async with ServiceKit("picker", settings) as kit:
        ...  # build features from kit.bus, kit.registry, kit.health
        await stop.wait()

Entering starts the admin app first (so ``/healthz`` answers while the bus is
still being reached), then connects to NATS and sets up the streams. Leaving
closes the bus, then the admin app. ``/readyz`` fails while NATS is down, and
from the start until the service calls :meth:`ServiceKit.started` once its own
readiness checks are in place (a replica never answers ready while it is still
subscribing to its streams, on an empty view).
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

import structlog
from prometheus_client import CollectorRegistry

from gie.bus import BusMetrics, NatsEventBus
from gie.config import ServiceSettings
from gie.events.cloudevents import source_of
from gie.security.credentials import NatsCredentials
from gie.security.nats_permissions import identity_of, inbox_prefix
from gie.telemetry import AdminApp, AdminServer, Health, build_admin_app, configure_logging


def nats_credentials(settings: ServiceSettings, service: str) -> NatsCredentials:
    """The service's NATS credentials from its settings. With a user set, replies and
    deliveries come under the service's own inbox prefix (its permissions allow no
    other: see :mod:`gie.security.nats_permissions`)."""
    prefix = None
    if settings.nats_user is not None:
        prefix = inbox_prefix(identity_of(service))
    return NatsCredentials(
        user=settings.nats_user,
        password_file=settings.nats_password_file,
        tls_ca_file=settings.nats_tls_ca_file,
        tls_cert_file=settings.nats_tls_cert_file,
        tls_key_file=settings.nats_tls_key_file,
        inbox_prefix=prefix,
    )


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
            credentials=nats_credentials(settings, service),
        )
        self.admin_app: AdminApp = build_admin_app(
            service=service, health=self.health, registry=self.registry
        )
        self._admin = AdminServer(
            self.admin_app, host=settings.admin_host, port=settings.admin_port
        )
        self._started = False
        self.health.add_check("start-up", lambda: None if self._started else "starting")
        self.health.add_check("nats", lambda: None if self.bus.connected else "not connected")
        self.health.add_check(
            "event streams", lambda: self.bus.stale_followings(settings.max_view_lag_s)
        )

    def started(self) -> None:
        """The service's own readiness checks are registered: from now on they (and
        the kit's) decide readiness."""
        self._started = True

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
