"""Measurements: CPU from ``/proc``, the servers' own counters, and summary statistics.

Synchronous helpers except :func:`~bench.measure.server_counters.scrape_all` (httpx).
"""

from __future__ import annotations

from bench.measure.cpu import CpuSnapshot, take_snapshot
from bench.measure.server_counters import ServerCounters, parse_counters, scrape_all
from bench.measure.stats import percentile, summarise

__all__ = [
    "CpuSnapshot",
    "ServerCounters",
    "parse_counters",
    "percentile",
    "scrape_all",
    "summarise",
    "take_snapshot",
]
