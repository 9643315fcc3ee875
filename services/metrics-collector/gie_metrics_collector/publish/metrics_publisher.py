"""Turn good scrapes into ``EndpointMetricsObserved`` events, off the scrape loops.

:class:`MetricsPublisher` is the scrape loops' sink. It asks the :class:`ChangePolicy`
whether a scrape is worth an event and hands events to an outbox (gie's
``BackgroundPublisher``: bounded queue, never blocks, counts drops). The event carries the
scrape's start time as ``scraped_at``; consumers keep the newest per endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter

from gie.clock import Clock
from gie.events import EndpointMetrics, EndpointMetricsObserved, Event
from gie.events.subjects import metrics_subject
from gie_metrics_collector.publish.change_policy import ChangePolicy, PublishReason

__all__ = ["MetricsPublisher", "Outbox", "PublishMetrics"]


class Outbox(Protocol):
    def submit(self, subject: str, event: Event) -> None:
        """Queue ``event`` for publishing; MUST NOT block."""


class PublishMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.published = Counter(
            "gie_collector_events_published_total",
            "EndpointMetricsObserved events handed to the bus, by reason "
            "(first, threshold, changed, heartbeat).",
            ["reason"],
            registry=registry,
        )
        self.suppressed = Counter(
            "gie_collector_observations_suppressed_total",
            "Good scrapes not published because nothing changed enough.",
            registry=registry,
        )


@dataclass(slots=True)
class _Published:
    metrics: EndpointMetrics
    at_mono: float
    subject: str


class MetricsPublisher:
    """Implements the scrape loops' ``ObservationSink``. One event loop; not thread-safe."""

    def __init__(
        self,
        *,
        pool: str,
        source: str,
        policy: ChangePolicy,
        outbox: Outbox,
        clock: Clock,
        metrics: PublishMetrics,
    ) -> None:
        self._pool = pool
        self._source = source
        self._policy = policy
        self._outbox = outbox
        self._clock = clock
        self._metrics = metrics
        self._last: dict[str, _Published] = {}
        self._reasons = {reason: metrics.published.labels(reason) for reason in PublishReason}

    def observe(self, address: str, metrics: EndpointMetrics, *, scraped_at: datetime) -> None:
        now = self._clock.monotonic()
        last = self._last.get(address)
        reason = self._policy.decide(
            last.metrics if last else None,
            metrics,
            since_s=now - last.at_mono if last else 0.0,
        )
        if reason is None:
            self._metrics.suppressed.inc()
            return
        subject = last.subject if last else metrics_subject(self._pool, address)
        event = EndpointMetricsObserved(
            source=self._source,
            pool=self._pool,
            address=address,
            scraped_at=scraped_at,
            metrics=metrics,
        )
        self._outbox.submit(subject, event)
        self._last[address] = _Published(metrics, now, subject)
        self._reasons[reason].inc()

    def forget(self, address: str) -> None:
        """The endpoint is no longer scraped here; its next scrape publishes at once."""
        self._last.pop(address, None)
