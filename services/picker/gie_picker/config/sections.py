"""The ``saturationDetector``, ``flowControl`` and ``featureGates`` sections (phase 2).

``saturationDetector``: parsed by :func:`~gie.saturation.parse_saturation_detector`,
the rule every service shares (absent, null or zero takes upstream's default; any
other out-of-range value is a problem naming the field). ``featureGates``: gates gie
knows are enabled; any other is ignored with a warning.
"""

from __future__ import annotations

from pydantic import ValidationError

from gie.config import GieConfigError
from gie.config.durations import DOCUMENT_CONTEXT
from gie.flowcontrol import FlowControlConfig
from gie.saturation import SaturationConfig, parse_saturation_detector
from gie_picker.config.effective import KNOWN_FEATURE_GATES
from gie_picker.config.problems import problem, validation_problems


def saturation_config(
    raw: dict[str, object], section: dict[str, object] | None
) -> tuple[SaturationConfig, list[str]]:
    """``saturationDetector``, parsed by the kernel's one rule, and its problems."""
    try:
        return parse_saturation_detector(section), []
    except GieConfigError as exc:
        return SaturationConfig(), [problem(raw, p.path, p.message) for p in exc.problems]


def flow_control_config(
    raw: dict[str, object], section: dict[str, object] | None
) -> tuple[FlowControlConfig, list[str]]:
    """``flowControl``, validated with the model the flow-controller uses too."""
    try:
        return FlowControlConfig.model_validate(section or {}, context=DOCUMENT_CONTEXT), []
    except ValidationError as exc:
        problems = validation_problems(
            raw, exc, prefix=("flowControl",), model_at={(): FlowControlConfig}
        )
        return FlowControlConfig(), problems


def feature_gates(gates: list[str]) -> tuple[frozenset[str], list[str]]:
    """The gates gie knows, and a warning for each one it does not."""
    unknown = [gate for gate in dict.fromkeys(gates) if gate not in KNOWN_FEATURE_GATES]
    warnings = [
        f'featureGates: "{gate}" is not a feature gate gie knows; ignored (known: '
        f"{', '.join(sorted(KNOWN_FEATURE_GATES))})"
        for gate in unknown
    ]
    return frozenset(gates) & KNOWN_FEATURE_GATES, warnings
