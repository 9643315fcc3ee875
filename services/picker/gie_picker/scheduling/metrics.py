"""Latency histograms of scheduling, with upstream's names and buckets."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from gie.telemetry.loop_metrics import HistogramChild, LoopHistogram
from gie_picker.scheduling.contracts import Plugin

# Upstream's extension-point label values.
PROFILE_PICKER = "ProfilePicker"
FILTER = "Filter"
SCORER = "Scorer"
PICKER = "Picker"
PROCESS_PROFILES_RESULTS = "ProcessProfilesResults"

_BUCKETS = (0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1)


class SchedulerMetrics:
    """The whole scheduling step, and each plugin call, in seconds (event loop only)."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.e2e = LoopHistogram(
            "inference_extension_scheduler_e2e_duration_seconds",
            "End-to-end scheduling latency in seconds.",
            buckets=_BUCKETS,
            registry=registry,
        )
        self.plugin = LoopHistogram(
            "inference_extension_plugin_duration_seconds",
            "Plugin latency in seconds, per extension point, plugin type and plugin name.",
            ["extension_point", "plugin_type", "plugin_name"],
            buckets=_BUCKETS,
            registry=registry,
        )

    def for_plugin(self, extension_point: str, plugin: Plugin) -> HistogramChild:
        """The histogram child of one plugin at one extension point (bind once, reuse)."""
        return self.plugin.labels(extension_point, plugin.TYPE, plugin.name)
