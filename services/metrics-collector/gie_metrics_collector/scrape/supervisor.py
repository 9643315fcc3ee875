"""Start, stop and watch the scrape loops of the endpoints this replica owns."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from gie.events import Endpoint
from gie_metrics_collector.endpoint_tasks import EndpointTasks
from gie_metrics_collector.scrape.endpoint_scraper import EndpointScraper
from gie_metrics_collector.scrape.factory import ScraperFactory
from gie_metrics_collector.scrape.record import EndpointRecord
from gie_metrics_collector.scrape.scrape_metrics import ScrapeMetrics

__all__ = ["ScrapeSupervisor"]


class ScrapeSupervisor:
    """One scrape loop per scraped endpoint; :meth:`sync` makes the set match the wanted one.

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
        self._tasks: EndpointTasks[EndpointScraper] = EndpointTasks(
            kind="scrape",
            build=factory.build,
            keep=lambda scraper, endpoint: scraper.reader.pin(factory.flavour_of(endpoint)),
            on_stopped=on_stopped,
            on_crash=metrics.errors.labels("internal").inc,
            restart_s=restart_s,
        )

    def sync(self, wanted: Mapping[str, Endpoint]) -> None:
        """Scrape exactly ``wanted`` (address -> endpoint) from now on."""
        self._tasks.sync(wanted)

    @property
    def addresses(self) -> list[str]:
        return self._tasks.addresses

    def records(self) -> list[EndpointRecord]:
        return [scraper.record for _address, scraper in self._tasks.items()]

    async def close(self) -> None:
        await self._tasks.close()
