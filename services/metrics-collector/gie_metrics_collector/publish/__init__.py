"""Publishing scraped values as events: the change policy and the publisher."""

from __future__ import annotations

from gie_metrics_collector.publish.change_policy import ChangePolicy, PublishReason
from gie_metrics_collector.publish.metrics_publisher import MetricsPublisher, Outbox, PublishMetrics

__all__ = ["ChangePolicy", "MetricsPublisher", "Outbox", "PublishMetrics", "PublishReason"]
