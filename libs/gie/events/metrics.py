"""Events about the measured load of endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from gie.events.address import Address
from gie.events.base import Event


class EndpointMetrics(BaseModel):
    """The load signals scraped from one model server."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    waiting_queue_size: int = Field(ge=0)
    running_requests: int = Field(ge=0)
    kv_cache_usage: float = Field(ge=0.0, le=1.0)
    kv_block_size: int | None = Field(default=None, gt=0)
    kv_num_blocks: int | None = Field(default=None, gt=0)
    prefix_cache_hits: float | None = Field(default=None, ge=0.0)
    prefix_cache_queries: float | None = Field(default=None, ge=0.0)
    lora_running: tuple[str, ...] = ()
    lora_waiting: tuple[str, ...] = ()
    max_lora: int | None = Field(default=None, ge=0)


class EndpointMetricsObserved(Event):
    """A scrape of one endpoint's metrics, taken at ``scraped_at``."""

    TYPE: ClassVar[str] = "EndpointMetricsObserved"

    address: Address
    scraped_at: datetime
    metrics: EndpointMetrics
