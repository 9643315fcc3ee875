"""Build the scrape loop of an endpoint from the collector's settings."""

from __future__ import annotations

import ssl
from collections.abc import Mapping

import structlog

from gie.clock import Clock
from gie.events import Endpoint
from gie_metrics_collector.fetch import HttpPageFetcher, split_address
from gie_metrics_collector.scrape.contracts import ObservationSink
from gie_metrics_collector.scrape.endpoint_scraper import EndpointScraper
from gie_metrics_collector.scrape.scrape_metrics import ScrapeMetrics
from gie_metrics_collector.scrape.timing import ScrapeTiming
from gie_metrics_collector.signals import Flavour, SignalReader, SignalSpecs, flavour_from_labels

__all__ = ["ScrapeTarget", "ScraperFactory"]

_log = structlog.get_logger("gie.metrics_collector.scrape")


class ScrapeTarget:
    """Where and how endpoints' pages are fetched (upstream's model-server-metrics-* flags)."""

    def __init__(
        self,
        *,
        path: str = "/metrics",
        port: int | None = None,
        https: bool = False,
        timeout_s: float = 5.0,
        max_body: int = 8 * 1024 * 1024,
    ) -> None:
        self.path, self.port, self.timeout_s, self.max_body = path, port, timeout_s, max_body
        # Upstream skips certificate verification for https scrapes; so do we.
        self.ssl_context: ssl.SSLContext | None = None
        if https:
            self.ssl_context = ssl.create_default_context()
            self.ssl_context.check_hostname = False
            self.ssl_context.verify_mode = ssl.CERT_NONE

    def url_address(self, address: str) -> str:
        """The ``host:port`` to scrape for an endpoint serving on ``address``."""
        if self.port is None:
            return address
        host, _ = split_address(address)
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"


class ScraperFactory:
    """Makes :class:`EndpointScraper` loops that share one target, timing and sink."""

    def __init__(
        self,
        *,
        specs: Mapping[Flavour, SignalSpecs],
        default_flavour: Flavour | None,
        target: ScrapeTarget,
        timing: ScrapeTiming,
        sink: ObservationSink,
        clock: Clock,
        metrics: ScrapeMetrics,
    ) -> None:
        self._specs = specs
        self._default = default_flavour
        self._target = target
        self._timing = timing
        self._sink = sink
        self._clock = clock
        self._metrics = metrics

    def flavour_of(self, endpoint: Endpoint) -> Flavour | None:
        """The endpoint's engine-type label, else the configured flavour (None: recognise)."""
        try:
            return flavour_from_labels(endpoint.labels) or self._default
        except ValueError as exc:
            _log.warning("ignoring engine-type label", endpoint=endpoint.address, error=str(exc))
            return self._default

    def build(self, endpoint: Endpoint) -> EndpointScraper:
        target = self._target
        fetcher = HttpPageFetcher(
            target.url_address(endpoint.address),
            target.path,
            timeout_s=target.timeout_s,
            max_body=target.max_body,
            ssl_context=target.ssl_context,
        )
        return EndpointScraper(
            endpoint.address,
            fetcher=fetcher,
            reader=SignalReader(self._specs, pinned=self.flavour_of(endpoint)),
            sink=self._sink,
            timing=self._timing,
            clock=self._clock,
            metrics=self._metrics,
        )
