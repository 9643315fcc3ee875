"""Telemetry of the flow-controller: Prometheus metrics and the flow events."""

from __future__ import annotations

from gie_flow_controller.telemetry.events import FlowEvents
from gie_flow_controller.telemetry.gauges import QueueGauges
from gie_flow_controller.telemetry.metrics import FlowControlMetrics

__all__ = ["FlowControlMetrics", "FlowEvents", "QueueGauges"]
