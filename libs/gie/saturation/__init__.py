"""Saturation detection (upstream's rule), shared by the picker and the collector."""

from __future__ import annotations

from gie.saturation.detector import (
    Saturation,
    SaturationConfig,
    has_capacity,
    is_stale,
    pool_saturation,
)

__all__ = ["Saturation", "SaturationConfig", "has_capacity", "is_stale", "pool_saturation"]
