"""What a scrape loop needs from its neighbours, as small protocols."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from gie.events import EndpointMetrics

__all__ = ["ObservationSink", "PageFetcher"]


class PageFetcher(Protocol):
    """Fetches one endpoint's page. Called by one loop at a time."""

    async def fetch(self) -> bytes:
        """The page body; raises ``FetchError`` for anything but a complete 200 response."""

    def close(self) -> None:
        """Release the connection. Safe to call twice."""


class ObservationSink(Protocol):
    """Receives every good scrape. MUST NOT block: it runs on the scrape loop."""

    def observe(self, address: str, metrics: EndpointMetrics, *, scraped_at: datetime) -> None:
        """``metrics`` were read from ``address`` by a scrape started at ``scraped_at``."""
