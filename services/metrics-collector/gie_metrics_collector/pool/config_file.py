"""The saturation thresholds, from the ``saturationDetector`` section of the picker's
EndpointPickerConfig file (``GIE_CONFIG_FILE``), so collector and picker use the same.

Only that section is read. As upstream's loader does, a threshold that is absent, zero or
out of range (queue depth <= 0, KV utilisation outside (0, 1), staleness <= 0) takes its
default; anything else that is wrong (unreadable file, not YAML, unknown keys, values of
the wrong type) raises :class:`~gie_metrics_collector.errors.ConfigFileError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gie.config.durations import DOCUMENT_CONTEXT, parse_duration
from gie.config.strict_yaml import safe_load_strict
from gie.saturation import SaturationConfig
from gie_metrics_collector.errors import ConfigFileError

__all__ = ["load_saturation_config"]

_KEYS = frozenset({"queueDepthThreshold", "kvCacheUtilThreshold", "metricsStalenessThreshold"})


def _defaulted(key: str, value: Any) -> bool:
    """True when upstream would replace ``value`` by the default."""
    if key not in _KEYS:
        return False  # unknown keys are reported by validation
    if value is None:
        return True
    if isinstance(value, bool):
        return False  # a type error, reported by validation
    try:
        if key == "metricsStalenessThreshold":
            return parse_duration(value) <= 0
        number = float(value)
    except (TypeError, ValueError):
        return False
    if key == "kvCacheUtilThreshold":
        return not 0.0 < number < 1.0
    return number <= 0


def load_saturation_config(path: Path | None) -> SaturationConfig:
    """The configured thresholds, or the defaults when ``path`` is None."""
    if path is None:
        return SaturationConfig()
    try:
        document = safe_load_strict(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigFileError(f"cannot read GIE_CONFIG_FILE {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigFileError(f"GIE_CONFIG_FILE {path} is not valid YAML: {exc}") from exc
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigFileError(f"GIE_CONFIG_FILE {path} is not a mapping (an EndpointPickerConfig)")
    section = document.get("saturationDetector") or {}
    if not isinstance(section, dict):
        raise ConfigFileError(f"GIE_CONFIG_FILE {path}: saturationDetector must be a mapping")
    kept = {key: value for key, value in section.items() if not _defaulted(key, value)}
    try:
        return SaturationConfig.model_validate(kept, context=DOCUMENT_CONTEXT)
    except ValidationError as exc:
        raise ConfigFileError(f"GIE_CONFIG_FILE {path}: invalid saturationDetector: {exc}") from exc
