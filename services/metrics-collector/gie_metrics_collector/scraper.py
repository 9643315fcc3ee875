"""One scrape loop per endpoint; changed values (or a heartbeat) become events.

Each endpoint has its own task, so a slow endpoint never delays the others.
Failures (connection errors, HTTP errors, garbage pages) are logged once per
streak, counted, and keep the last published values; the loop backs off.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx
import structlog
from prometheus_client import CollectorRegistry, Counter

from gie.bus import EventPublisher, GieBusError
from gie.events import EndpointMetrics, EndpointMetricsObserved
from gie.events.subjects import metrics_subject
from gie_metrics_collector.prom_text import MetricsPageError
from gie_metrics_collector.settings import CollectorSettings
from gie_metrics_collector.vllm_signals import metrics_from_page

_log = structlog.get_logger("gie.metrics_collector")


class ScrapeMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.scrapes = Counter(
            "gie_collector_scrapes_total", "Scrapes by outcome.", ["outcome"], registry=registry
        )


class EndpointScraper:
    """Scrapes one endpoint until stopped."""

    def __init__(
        self,
        address: str,
        *,
        client: httpx.AsyncClient,
        bus: EventPublisher,
        settings: CollectorSettings,
        metrics: ScrapeMetrics,
    ) -> None:
        self.address = address
        self._client = client
        self._bus = bus
        self._settings = settings
        self._metrics = metrics
        self._url = f"http://{address}{settings.metrics_path}"
        self._last: EndpointMetrics | None = None
        self._last_published = 0.0
        self._failures = 0

    async def run(self) -> None:
        while True:
            started = time.monotonic()
            ok = await self.scrape_once()
            self._failures = 0 if ok else self._failures + 1
            delay = self._settings.scrape_interval_s
            if self._failures:
                delay = min(delay * 2 ** min(self._failures, 6), 2.0)
            await asyncio.sleep(max(0.0, delay - (time.monotonic() - started)))

    async def scrape_once(self) -> bool:
        scraped_at = datetime.now(UTC)
        try:
            response = await self._client.get(self._url, timeout=self._settings.scrape_timeout_s)
            response.raise_for_status()
            observed = metrics_from_page(response.text)
        except (httpx.HTTPError, MetricsPageError) as exc:
            outcome = "bad_page" if isinstance(exc, MetricsPageError) else "unreachable"
            self._metrics.scrapes.labels(outcome).inc()
            if self._failures == 0:
                _log.warning("scrape failed", endpoint=self.address, error=str(exc) or repr(exc))
            return False
        self._metrics.scrapes.labels("ok").inc()
        now = time.monotonic()
        if observed == self._last and now - self._last_published < self._settings.heartbeat_s:
            return True
        event = EndpointMetricsObserved(
            source=self._settings.instance_id,
            pool=self._settings.pool,
            address=self.address,
            scraped_at=scraped_at,
            metrics=observed,
        )
        try:
            await self._bus.publish(metrics_subject(self._settings.pool, self.address), event)
        except GieBusError as exc:
            _log.warning("metrics not published", endpoint=self.address, error=str(exc))
            return True
        self._last, self._last_published = observed, now
        return True
