"""Settings of the metrics-collector (environment, prefix ``GIE_``)."""

from __future__ import annotations

from pydantic import Field

from gie.config import ServiceSettings


class CollectorSettings(ServiceSettings):
    scrape_interval_s: float = Field(default=0.05, gt=0, description="Scrape period per endpoint.")
    scrape_timeout_s: float = Field(default=5.0, gt=0, description="Timeout of one scrape.")
    heartbeat_s: float = Field(
        default=1.0, gt=0, description="Publish unchanged metrics at least this often."
    )
    metrics_path: str = Field(default="/metrics", description="Path of the metrics page.")
    admin_port: int = Field(default=9092, ge=0, le=65535)
