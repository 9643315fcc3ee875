"""Start, stop and watch the scrape loops of the endpoints this replica owns."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import structlog

from gie.events import Endpoint
from gie_metrics_collector.scrape.endpoint_scraper import EndpointScraper
from gie_metrics_collector.scrape.factory import ScraperFactory
from gie_metrics_collector.scrape.record import EndpointRecord
from gie_metrics_collector.scrape.scrape_metrics import ScrapeMetrics

__all__ = ["ScrapeSupervisor"]

_log = structlog.get_logger("gie.metrics_collector.scrape")


class ScrapeSupervisor:
    """One task per scraped endpoint; :meth:`sync` makes the set match the wanted one.

    A loop that dies of an unexpected error (a bug, not a failed scrape) is logged with
    its traceback, counted as ``reason="internal"`` and restarted ``restart_s`` later. Runs on
    one event loop; not thread-safe.
    """

    def __init__(
        self,
        factory: ScraperFactory,
        *,
        metrics: ScrapeMetrics,
        on_stopped: Callable[[str], None] = lambda _address: None,
        restart_s: float = 1.0,
    ) -> None:
        self._factory = factory
        self._restart_s = restart_s
        self._metrics = metrics
        self._on_stopped = on_stopped
        self._scrapers: dict[str, EndpointScraper] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wanted: dict[str, Endpoint] = {}

    def sync(self, wanted: Mapping[str, Endpoint]) -> None:
        """Scrape exactly ``wanted`` (address -> endpoint) from now on."""
        self._wanted = dict(wanted)
        for address in [a for a in self._tasks if a not in wanted]:
            self._stop(address)
        for address, endpoint in wanted.items():
            scraper = self._scrapers.get(address)
            if scraper is None:
                self._start(endpoint)
            else:
                scraper.reader.pin(self._factory.flavour_of(endpoint))

    @property
    def addresses(self) -> list[str]:
        return sorted(self._tasks)

    def records(self) -> list[EndpointRecord]:
        return [self._scrapers[address].record for address in sorted(self._scrapers)]

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._wanted.clear()
        for address in list(self._tasks):
            self._stop(address)
        await asyncio.gather(*tasks, return_exceptions=True)

    def _start(self, endpoint: Endpoint) -> None:
        scraper = self._factory.build(endpoint)
        task = asyncio.create_task(scraper.run(), name=f"scrape {endpoint.address}")
        task.add_done_callback(self._ended)
        self._scrapers[endpoint.address] = scraper
        self._tasks[endpoint.address] = task

    def _stop(self, address: str) -> None:
        self._tasks.pop(address).cancel()
        self._scrapers.pop(address, None)
        self._on_stopped(address)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        address = next((a for a, t in self._tasks.items() if t is task), None)
        if address is None:
            return
        self._tasks.pop(address)
        self._scrapers.pop(address, None)
        self._metrics.errors.labels("internal").inc()
        _log.error("scrape loop crashed; restarting", endpoint=address, exc_info=task.exception())
        asyncio.get_running_loop().call_later(self._restart_s, self._restart, address)

    def _restart(self, address: str) -> None:
        endpoint = self._wanted.get(address)
        if endpoint is not None and address not in self._tasks:
            self._start(endpoint)
