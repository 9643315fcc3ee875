"""The scrape loop of one endpoint.

Every endpoint has its own loop (an asyncio task), so a slow or dead endpoint only delays
itself. A loop starts at a random point of the first interval (spreading load), keeps a
fixed rate of scrape starts (with jitter; late wake-ups are made up, a loop far behind
starts afresh rather than bursting), and backs off while failing. A failed
scrape is counted by reason and logged once per failure streak (then once a minute);
the endpoint's last good values are kept and simply age.
"""

from __future__ import annotations

import asyncio
import random

import structlog

from gie.clock import Clock
from gie_metrics_collector.errors import ScrapeError
from gie_metrics_collector.scrape.contracts import ObservationSink, PageFetcher
from gie_metrics_collector.scrape.record import EndpointRecord
from gie_metrics_collector.scrape.scrape_metrics import ScrapeMetrics
from gie_metrics_collector.scrape.timing import ScrapeTiming
from gie_metrics_collector.signals import SignalReader

__all__ = ["EndpointScraper"]

_log = structlog.get_logger("gie.metrics_collector.scrape")
_RELOG_S = 60.0


class EndpointScraper:
    """Scrapes one endpoint until its task is cancelled."""

    def __init__(
        self,
        address: str,
        *,
        fetcher: PageFetcher,
        reader: SignalReader,
        sink: ObservationSink,
        timing: ScrapeTiming,
        clock: Clock,
        metrics: ScrapeMetrics,
        rng: random.Random | None = None,
    ) -> None:
        self.record = EndpointRecord(address, flavour=reader.flavour)
        self.reader = reader
        self._fetcher = fetcher
        self._sink = sink
        self._timing = timing
        self._clock = clock
        self._metrics = metrics
        self._rng = rng or random.Random()
        self._logged_failure_at: float | None = None

    async def run(self) -> None:
        """Scrape forever; the fetcher's connection is closed when the task ends."""
        try:
            await asyncio.sleep(self._timing.first_delay(self._rng))
            due = self._clock.monotonic()
            while True:
                await self.scrape_once()
                # Fixed rate: a late wake-up is made up on the next period, but a loop
                # more than one interval behind starts afresh instead of bursting.
                due += self._timing.period(self.record.consecutive_failures, self._rng)
                now = self._clock.monotonic()
                due = max(due, now - self._timing.interval_s)
                await asyncio.sleep(max(0.0, due - now))
        finally:
            self._fetcher.close()

    async def scrape_once(self) -> bool:
        """One scrape; True when it produced values."""
        record = self.record
        scraped_at = self._clock.now()
        started = self._clock.monotonic()
        try:
            body = await self._fetcher.fetch()
            values = self.reader.read(body, record.last_good)
        except ScrapeError as exc:
            self._failed(exc)
            return False
        now = self._clock.monotonic()
        self._metrics.duration.observe(now - started)
        self._metrics.ok.inc()
        record.flavour = self.reader.flavour
        outage = record.succeeded(values, at=scraped_at, mono=now)
        if outage is not None:
            self._logged_failure_at = None
            _log.info("scrape recovered", endpoint=record.address, outage_s=round(outage, 3))
        self._sink.observe(record.address, values, scraped_at=scraped_at)
        return True

    def _failed(self, exc: ScrapeError) -> None:
        record = self.record
        now = self._clock.monotonic()
        record.failed(exc.reason, str(exc), mono=now)
        self._metrics.error.inc()
        self._metrics.errors.labels(exc.reason).inc()
        logged = self._logged_failure_at
        if logged is None or now - logged >= _RELOG_S:
            self._logged_failure_at = now
            age = record.age_s(now)
            _log.warning(
                "scrape failed; keeping last good values" if age is not None else "scrape failed",
                endpoint=record.address,
                reason=exc.reason,
                error=str(exc),
                consecutive_failures=record.consecutive_failures,
                last_good_age_s=None if age is None else round(age, 3),
            )
