"""Scrape loops: one asyncio task per endpoint, started and stopped by a supervisor."""

from __future__ import annotations

from gie_metrics_collector.scrape.contracts import ObservationSink, PageFetcher
from gie_metrics_collector.scrape.endpoint_scraper import EndpointScraper
from gie_metrics_collector.scrape.factory import ScraperFactory, ScrapeTarget
from gie_metrics_collector.scrape.record import EndpointRecord
from gie_metrics_collector.scrape.scrape_metrics import ScrapeMetrics
from gie_metrics_collector.scrape.supervisor import ScrapeSupervisor
from gie_metrics_collector.scrape.timing import ScrapeTiming

__all__ = [
    "EndpointRecord",
    "EndpointScraper",
    "ObservationSink",
    "PageFetcher",
    "ScrapeMetrics",
    "ScrapeSupervisor",
    "ScrapeTarget",
    "ScrapeTiming",
    "ScraperFactory",
]
