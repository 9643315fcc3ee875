"""What the picker tells operators: Prometheus metrics and ``GET /debug/view``.

:mod:`~gie_picker.telemetry.metrics` defines the request-level metrics with
upstream's names (:class:`PickerMetrics`, updated by the director) and the pool
gauges computed at scrape time from the view (:class:`PoolCollector`);
:mod:`~gie_picker.telemetry.debug_view` renders the picker's current view as
JSON.

Concurrency: metrics are updated on the service's event loop only (lock-free,
:mod:`gie.telemetry.loop_metrics`); collection and :func:`render_view` only read,
from whichever thread the admin app serves the page on.
"""

from __future__ import annotations

from gie_picker.telemetry.debug_view import render_view
from gie_picker.telemetry.metrics import (
    MODEL_SERVER_ERROR,
    ModelMetrics,
    PickerMetrics,
    PoolCollector,
    picker_error_code,
)

__all__ = [
    "MODEL_SERVER_ERROR",
    "ModelMetrics",
    "PickerMetrics",
    "PoolCollector",
    "picker_error_code",
    "render_view",
]
