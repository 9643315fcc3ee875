"""Fetching metrics pages: a minimal keep-alive HTTP/1.1 client and its response parser."""

from __future__ import annotations

from gie_metrics_collector.fetch.http_fetcher import HttpPageFetcher, split_address
from gie_metrics_collector.fetch.response import ResponseParser

__all__ = ["HttpPageFetcher", "ResponseParser", "split_address"]
