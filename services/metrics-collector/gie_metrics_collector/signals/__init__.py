"""Load signals of the supported model servers: which series, and how to read them."""

from __future__ import annotations

from gie_metrics_collector.signals.flavours import (
    BUILTIN_SPECS,
    ENGINE_LABELS,
    OPTIONAL_SIGNALS,
    SIGNALS,
    Flavour,
    SignalSpecs,
    detect_flavour,
    flavour_from_labels,
)
from gie_metrics_collector.signals.lora import LoraState, latest_lora
from gie_metrics_collector.signals.reader import SignalReader

__all__ = [
    "BUILTIN_SPECS",
    "ENGINE_LABELS",
    "OPTIONAL_SIGNALS",
    "SIGNALS",
    "Flavour",
    "LoraState",
    "SignalReader",
    "SignalSpecs",
    "detect_flavour",
    "flavour_from_labels",
    "latest_lora",
]
