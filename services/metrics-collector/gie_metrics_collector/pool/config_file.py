"""The saturation thresholds, from the ``saturationDetector`` section of the picker's
EndpointPickerConfig file (``GIE_CONFIG_FILE``), so collector and picker use the same.

Only that section is read, by :func:`~gie.saturation.parse_saturation_detector`, the
rule the picker and the flow-controller share: a threshold that is absent, null or zero
takes upstream's default; any other out-of-range value (a negative queue depth, a KV
utilisation above 1, a value that is not finite), an unknown key or a value of the wrong
type raises :class:`~gie_metrics_collector.errors.ConfigFileError` naming the field, as
does an unreadable file or one that is not YAML.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from gie.config import GieConfigError
from gie.config.strict_yaml import safe_load_strict
from gie.saturation import SATURATION_DETECTOR, SaturationConfig, parse_saturation_detector
from gie_metrics_collector.errors import ConfigFileError

__all__ = ["load_saturation_config"]


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
    try:
        return parse_saturation_detector(document.get(SATURATION_DETECTOR))
    except GieConfigError as exc:
        raise ConfigFileError(f"GIE_CONFIG_FILE {path}: invalid saturationDetector: {exc}") from exc
