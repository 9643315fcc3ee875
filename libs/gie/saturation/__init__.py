"""Saturation detection (upstream's rule), shared by the picker and the collector, and
the one parser of the ``saturationDetector`` section every service uses
(:func:`parse_saturation_detector`)."""

from __future__ import annotations

from gie.saturation.detector import (
    Saturation,
    SaturationConfig,
    has_capacity,
    is_stale,
    pool_saturation,
)
from gie.saturation.section import SATURATION_DETECTOR, parse_saturation_detector

__all__ = [
    "SATURATION_DETECTOR",
    "Saturation",
    "SaturationConfig",
    "has_capacity",
    "is_stale",
    "parse_saturation_detector",
    "pool_saturation",
]
