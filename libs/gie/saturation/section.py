"""The ``saturationDetector`` section of an EndpointPickerConfig, parsed the same way by
every service that reads it (the picker, the flow-controller, the metrics-collector).

The rule, upstream's defaulting made strict:

* an absent field, a field set to null, and a field set to zero (``0``, ``0.0``, or a
  zero duration such as ``0s``) take upstream's default (``queueDepthThreshold: 5``,
  ``kvCacheUtilThreshold: 0.8``, ``metricsStalenessThreshold: 200ms``): upstream's Go
  fields cannot tell zero from unset;
* any other value outside its range is an error naming the field: a negative queue
  depth, a KV-cache utilisation below 0 or above 1, a value that is not finite (NaN,
  infinity), a duration without a unit; so are unknown fields and values of the wrong
  YAML type.

Errors are :class:`~gie.config.GieConfigError`, one problem per field at fault, each
with its path (``saturationDetector.kvCacheUtilThreshold``). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from gie.config.durations import DOCUMENT_CONTEXT, parse_duration
from gie.config.errors import ConfigProblem, GieConfigError
from gie.saturation.detector import SaturationConfig

__all__ = ["SATURATION_DETECTOR", "parse_saturation_detector"]

SATURATION_DETECTOR = "saturationDetector"

_DURATIONS = frozenset({"metricsStalenessThreshold"})


def _field_names() -> list[str]:
    return [field.alias or name for name, field in SaturationConfig.model_fields.items()]


def _means_default(key: str, value: object) -> bool:
    """Null and zero mean "unset": upstream replaces them by the default."""
    if value is None:
        return True
    if isinstance(value, bool):
        return False  # a type error, reported by validation
    if isinstance(value, int | float):
        return value == 0  # NaN is not zero: it is reported
    if isinstance(value, str) and key in _DURATIONS:
        try:
            return parse_duration(value, document=True) == 0
        except ValueError:
            return False  # reported by validation
    return False


def parse_saturation_detector(section: object) -> SaturationConfig:
    """The thresholds of a ``saturationDetector`` section (``None`` when the document
    has none); GieConfigError lists every problem, each naming its field."""
    if section is None:
        return SaturationConfig()
    if not isinstance(section, Mapping):
        raise GieConfigError([ConfigProblem((SATURATION_DETECTOR,), "must be a mapping")])
    known = _field_names()
    problems = [
        ConfigProblem(
            (SATURATION_DETECTOR, str(key)),
            f"unknown field; expected one of: {', '.join(known)}",
        )
        for key in section
        if key not in known
    ]
    given = {
        key: value
        for key, value in section.items()
        if key in known and not _means_default(key, value)
    }
    try:
        config = SaturationConfig.model_validate(given, strict=True, context=DOCUMENT_CONTEXT)
    except ValidationError as exc:
        problems += [
            ConfigProblem(
                (SATURATION_DETECTOR, *error["loc"]),
                str(error["msg"]).removeprefix("Value error, "),
            )
            for error in exc.errors()
        ]
        raise GieConfigError(problems) from exc
    if problems:
        raise GieConfigError(problems)
    return config
