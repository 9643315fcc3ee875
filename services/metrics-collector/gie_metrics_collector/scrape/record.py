"""What the collector knows about one endpoint it scrapes: last good values and failures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gie.events import EndpointMetrics

__all__ = ["EndpointRecord"]


@dataclass(slots=True)
class EndpointRecord:
    """Mutable state of one scrape loop, read by ``/debug/collector`` and gauges.

    The last good values are kept whatever happens after them; their age says how much
    to trust them.
    """

    address: str
    flavour: str | None = None
    last_good: EndpointMetrics | None = None
    last_good_at: datetime | None = None
    last_good_mono: float | None = None
    scrapes: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    failing_since_mono: float | None = None
    last_error: str | None = None
    last_error_reason: str | None = None

    def age_s(self, now_mono: float) -> float | None:
        """Seconds since the last good values were scraped (None: never)."""
        return None if self.last_good_mono is None else max(0.0, now_mono - self.last_good_mono)

    def succeeded(self, metrics: EndpointMetrics, *, at: datetime, mono: float) -> float | None:
        """Record a good scrape; return how long the failure streak it ends lasted."""
        outage = None if self.failing_since_mono is None else mono - self.failing_since_mono
        self.last_good, self.last_good_at, self.last_good_mono = metrics, at, mono
        self.scrapes += 1
        self.consecutive_failures = 0
        self.failing_since_mono = None
        return outage

    def failed(self, reason: str, message: str, *, mono: float) -> None:
        self.scrapes += 1
        self.failures += 1
        self.consecutive_failures += 1
        if self.failing_since_mono is None:
            self.failing_since_mono = mono
        self.last_error, self.last_error_reason = message, reason

    def to_json(self, now_mono: float) -> dict[str, Any]:
        return {
            "address": self.address,
            "flavour": self.flavour,
            "healthy": self.consecutive_failures == 0 and self.last_good is not None,
            "last_good": self.last_good.model_dump(mode="json") if self.last_good else None,
            "scraped_at": self.last_good_at.isoformat() if self.last_good_at else None,
            "age_s": self.age_s(now_mono),
            "scrapes": self.scrapes,
            "failures": self.failures,
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error,
            "last_error_reason": self.last_error_reason,
        }
