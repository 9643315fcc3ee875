"""The flow-controller's share of the EndpointPickerConfig file (``GIE_CONFIG_FILE``).

The picker and the flow-controller read the same file. Only two sections matter here:
``flowControl`` (validated strictly by :class:`~gie.flowcontrol.FlowControlConfig`) and
``saturationDetector`` (by :func:`~gie.saturation.parse_saturation_detector`, the rule the
picker and the metrics-collector share: a field absent, null or zero takes upstream's
default; any other out-of-range value is an error).
Other sections are the picker's and are not looked at. Every problem raises
:class:`~gie_flow_controller.errors.ConfigFileError` naming the file and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from gie.config import GieConfigError
from gie.config.durations import DOCUMENT_CONTEXT
from gie.config.strict_yaml import safe_load_strict
from gie.flowcontrol import FlowControlConfig
from gie.saturation import SATURATION_DETECTOR, SaturationConfig, parse_saturation_detector
from gie_flow_controller.errors import ConfigFileError


@dataclass(frozen=True, slots=True)
class FlowControllerConfig:
    flow_control: FlowControlConfig = field(default_factory=FlowControlConfig)
    saturation: SaturationConfig = field(default_factory=SaturationConfig)


def _problems(exc: ValidationError, section: str) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in (section, *error["loc"]))
        lines.append(f"{where}: {error['msg']}")
    return "; ".join(lines)


def parse_sections(document: object, *, origin: str) -> FlowControllerConfig:
    """Validate the two sections of an already-parsed config document."""
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigFileError(f"{origin} is not a mapping (an EndpointPickerConfig)")
    section = document.get("flowControl")
    if section is not None and not isinstance(section, dict):
        raise ConfigFileError(f"{origin}: flowControl must be a mapping")
    try:
        flow_control = FlowControlConfig.model_validate(section or {}, context=DOCUMENT_CONTEXT)
    except ValidationError as exc:
        raise ConfigFileError(f"{origin}: {_problems(exc, 'flowControl')}") from exc
    try:
        saturation = parse_saturation_detector(document.get(SATURATION_DETECTOR))
    except GieConfigError as exc:
        raise ConfigFileError(f"{origin}: {exc}") from exc
    return FlowControllerConfig(flow_control, saturation)


def load_config_file(path: Path | None) -> FlowControllerConfig:
    """The configured sections, or the defaults when ``path`` is None."""
    if path is None:
        return FlowControllerConfig()
    try:
        document = safe_load_strict(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigFileError(f"cannot read GIE_CONFIG_FILE {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigFileError(f"GIE_CONFIG_FILE {path} is not valid YAML: {exc}") from exc
    return parse_sections(document, origin=f"GIE_CONFIG_FILE {path}")
