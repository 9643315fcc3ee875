"""The ``saturationDetector``, ``flowControl`` and ``featureGates`` sections (phase 2).

``saturationDetector``: a field that is absent or zero takes the default, as
upstream (whose Go fields cannot tell zero from unset); anything else must be a
valid :class:`~gie.saturation.SaturationConfig` value. ``featureGates``: gates gie
knows are enabled; any other is ignored with a warning.
"""

from __future__ import annotations

from pydantic import ValidationError

from gie.config.durations import DOCUMENT_CONTEXT, parse_duration
from gie.flowcontrol import FlowControlConfig
from gie.saturation import SaturationConfig
from gie_picker.config.document import known_fields
from gie_picker.config.effective import KNOWN_FEATURE_GATES
from gie_picker.config.problems import problem, validation_problems


def _is_zero(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value == 0
    try:
        return isinstance(value, str) and parse_duration(value) == 0
    except ValueError:
        return False


def saturation_config(
    raw: dict[str, object], section: dict[str, object] | None
) -> tuple[SaturationConfig, list[str]]:
    """``saturationDetector`` with upstream's defaulting (absent or zero means the
    default), and its problems."""
    known = known_fields(SaturationConfig)
    problems = [
        problem(
            raw, ("saturationDetector", key), f"unknown field; expected one of: {', '.join(known)}"
        )
        for key in section or {}
        if key not in known
    ]
    given = {k: v for k, v in (section or {}).items() if k in known and not _is_zero(v)}
    try:
        return SaturationConfig.model_validate(
            given, strict=True, context=DOCUMENT_CONTEXT
        ), problems
    except ValidationError as exc:
        problems += validation_problems(
            raw, exc, prefix=("saturationDetector",), model_at={(): SaturationConfig}
        )
        return SaturationConfig(), problems


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
