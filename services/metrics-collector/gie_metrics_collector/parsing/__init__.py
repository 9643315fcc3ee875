"""Reading Prometheus text: metric specs (upstream's syntax) and a fast sample finder."""

from __future__ import annotations

from gie_metrics_collector.parsing.prom_text import Sample, find_samples
from gie_metrics_collector.parsing.spec import MetricSpec, parse_spec

__all__ = ["MetricSpec", "Sample", "find_samples", "parse_spec"]
