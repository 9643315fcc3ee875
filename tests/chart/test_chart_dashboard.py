"""The Grafana dashboard: every series it queries is one gie exports, and it reaches
Grafana through the sidecar label the operator configures."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from gie.bus import BusMetrics
from tests.support.chart import CHART, named, render
from tests.support.k8s_tools import ROOT

DASHBOARD = CHART / "dashboards" / "gie.json"
# A series name, without the suffix of a histogram's parts.
SERIES = re.compile(r"\b((?:gie|inference)_[a-z_]+?)(?:_bucket|_sum|_count)?\b")


def exported_metrics() -> set[str]:
    """Metric names declared in the project's code, as Prometheus exposes them."""
    names: set[str] = set()
    for folder in ("libs", "services"):
        for path in (ROOT / folder).rglob("*.py"):
            names |= set(re.findall(r'"((?:gie|inference)_[a-z_]+)"', path.read_text()))
    return names | {f"{name}_total" for name in names if not name.endswith("_total")}


def queried(dashboard: dict[str, Any]) -> set[str]:
    series = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            series |= set(SERIES.findall(target["expr"]))
    return series


def test_every_queried_series_is_exported() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert queried(dashboard) - exported_metrics() == set()


def test_a_misspelt_series_is_found() -> None:
    dashboard = {"panels": [{"targets": [{"expr": "rate(gie_picker_requests_routd_total[1m])"}]}]}
    assert queried(dashboard) - exported_metrics() == {"gie_picker_requests_routd_total"}


def test_the_dashboard_shows_what_an_operator_watches() -> None:
    series = queried(json.loads(DASHBOARD.read_text()))
    for wanted in (
        "inference_objective_request_total",
        "inference_objective_request_duration_seconds",
        "inference_objective_request_error_total",
        "gie_pool_saturated",
        "inference_extension_flow_control_queue_size",
        "inference_extension_prefix_indexer_hit_ratio",
        "gie_bus_events_received_total",
        "gie_bus_consumer_lag_seconds",
        "gie_bus_consumer_pending_messages",
    ):
        assert wanted in series


def test_every_queried_bus_series_is_on_a_service_registry() -> None:
    """The event-flow panels query what every service's bus metrics really expose (a
    name found in the code is not enough: it must come out of a collection)."""
    registry = CollectorRegistry()
    BusMetrics(registry)
    exposed = set()
    for family in registry.collect():
        exposed.add(f"{family.name}_total" if family.type == "counter" else family.name)
    bus_series = {name for name in queried(json.loads(DASHBOARD.read_text())) if "_bus_" in name}
    assert len(bus_series) >= 5, "the dashboard shows the event flow"
    assert bus_series <= exposed


def test_the_sidecar_label_is_configurable(tmp_path: Path) -> None:
    default = named(render(CHART / "ci" / "default.yaml"), "ConfigMap", "gie-dashboard")
    assert default["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(default["data"]["gie.json"]) == json.loads(DASHBOARD.read_text())
    custom = render(
        CHART / "ci" / "default.yaml",
        "grafanaDashboard.label=dashboards.example.com/grafana",
        "grafanaDashboard.labelValue=gie",
    )
    labels = named(custom, "ConfigMap", "gie-dashboard")["metadata"]["labels"]
    assert labels["dashboards.example.com/grafana"] == "gie"
