"""Errors of the metrics-collector.

CollectorError
├── ConfigFileError      GIE_CONFIG_FILE cannot be read or its saturationDetector is invalid
├── MembershipError      the NATS KV membership bucket cannot be used
└── ScrapeError          one scrape failed; ``reason`` is a short, stable label
    ├── FetchError       the page was not received (unreachable, timeout, http_status,
    │                    oversized, bad_response)
    └── PageError        the page was received but is unusable (garbage, truncated,
                         non_finite, missing_signal)

A :class:`ScrapeError` never ends a scrape loop: it is counted by ``reason``, logged once
per failure streak, and the endpoint keeps its last good values, which age into staleness.
"""

from __future__ import annotations


class CollectorError(Exception):
    """Base of every error raised by the metrics-collector."""


class ConfigFileError(CollectorError):
    """The EndpointPickerConfig file is missing, malformed or invalid."""


class MembershipError(CollectorError):
    """The membership bucket could not be created or reached."""


class ScrapeError(CollectorError):
    """One scrape of one endpoint failed."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class FetchError(ScrapeError):
    """The metrics page could not be fetched."""


class PageError(ScrapeError):
    """The metrics page was fetched but cannot be used."""
