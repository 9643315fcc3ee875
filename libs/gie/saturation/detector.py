"""Upstream's saturation rule, shared by the picker and the collector.

An endpoint has capacity when its metrics are fresh (scraped no longer than
``metrics_staleness_s`` ago), its waiting queue is at most
``queue_depth_threshold`` and its KV-cache utilisation at most
``kv_cache_util_threshold``. The pool is saturated when no candidate has
capacity (an empty candidate set is saturated too).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_serializer, field_validator

from gie.config.durations import format_duration, validate_duration
from gie.view import EndpointState
from gie.view.staleness import is_stale_after


class SaturationConfig(BaseModel):
    """The ``saturationDetector`` section of an EndpointPickerConfig.

    Read a document's section with :func:`~gie.saturation.parse_saturation_detector`,
    which applies upstream's defaulting (absent, null or zero means the default)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    queue_depth_threshold: int = Field(default=5, ge=0, alias="queueDepthThreshold")
    kv_cache_util_threshold: float = Field(
        default=0.8, ge=0.0, le=1.0, allow_inf_nan=False, alias="kvCacheUtilThreshold"
    )
    metrics_staleness_s: float = Field(default=0.2, gt=0.0, alias="metricsStalenessThreshold")

    @field_validator("metrics_staleness_s", mode="before")
    @classmethod
    def _duration(cls, value: object, info: ValidationInfo) -> float:
        return validate_duration(value, info, example="'200ms'")

    @field_serializer("metrics_staleness_s")
    def _render(self, value: float) -> str:
        return format_duration(value)


@dataclass(frozen=True, slots=True)
class Saturation:
    saturated: bool
    with_capacity: int
    total: int
    reason: str


def is_stale(state: EndpointState, *, now: datetime, config: SaturationConfig) -> bool:
    """True when the endpoint has no metrics or they are older than the threshold."""
    return is_stale_after(state, now=now, threshold_s=config.metrics_staleness_s)


def has_capacity(state: EndpointState, *, now: datetime, config: SaturationConfig) -> bool:
    if is_stale(state, now=now, config=config):
        return False
    metrics = state.metrics
    assert metrics is not None
    return (
        metrics.waiting_queue_size <= config.queue_depth_threshold
        and metrics.kv_cache_usage <= config.kv_cache_util_threshold
    )


def pool_saturation(
    states: Iterable[EndpointState], *, now: datetime, config: SaturationConfig
) -> Saturation:
    """Saturation of a set of candidate endpoints, with a reason a human can read."""
    states = list(states)
    fresh = [s for s in states if not is_stale(s, now=now, config=config)]
    capable = [s for s in fresh if has_capacity(s, now=now, config=config)]
    if capable:
        reason = f"{len(capable)} of {len(states)} endpoints have capacity"
    elif not states:
        reason = "no endpoints"
    elif not fresh:
        reason = "every endpoint's metrics are stale"
    else:
        reason = (
            f"every fresh endpoint is over queue depth {config.queue_depth_threshold} "
            f"or KV-cache utilisation {config.kv_cache_util_threshold}"
        )
    return Saturation(not capable, len(capable), len(states), reason)
