"""Go-style durations (``200ms``, ``1.5s``, ``1m30s``) as used in upstream configs."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from pydantic import ValidationInfo

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
# Largest first: how a duration is written back (a whole number of the largest unit).
_RENDER_NS = (("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000),
              ("ms", 1_000_000), ("us", 1_000), ("ns", 1))  # fmt: skip

# Pass as ``context=`` when validating a configuration document: its durations must
# be strings with a unit, as in upstream's (a bare ``200`` could mean seconds or ms).
DOCUMENT_CONTEXT: Mapping[str, bool] = {"gie.config.document": True}


def from_document(info: ValidationInfo) -> bool:
    """Whether a pydantic validator is validating a configuration document."""
    return bool(info.context and info.context.get("gie.config.document"))


def validate_duration(value: object, info: ValidationInfo, *, example: str) -> float:
    """A pydantic ``mode="before"`` validator's body for a duration field."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"must be a duration such as {example}, got {value!r}")
    return parse_duration(value, document=from_document(info))


def parse_duration(value: str | float | int, *, document: bool = False) -> float:
    """Seconds from a Go duration string (or, outside documents, a number of seconds).

    In a document (``document=True``) only ``0`` may be written without a unit."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        if document and value != 0 and not math.isfinite(value):
            raise ValueError(f"a duration needs a unit and must be finite; got {value!r}")
        if document and value != 0:
            raise ValueError(
                f"a duration needs a unit, such as '{value:g}s' or '{value:g}ms'; got {value!r}"
            )
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"duration must be finite and not negative: {value!r}")
        return float(value)
    text = value.strip()
    if text == "0":
        return 0.0
    pos, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"not a duration like '200ms' or '1.5s': {value!r}")
    if not math.isfinite(total):
        raise ValueError(f"duration too large: {value!r}")
    return round(total * 1e9) / 1e9  # whole nanoseconds, as Go's: what renders reloads


def format_duration(seconds: float) -> str:
    """A Go-style rendering that parses back to the same value (to the nanosecond)."""
    nanos = round(seconds * 1e9)
    if nanos == 0:
        return "0s"
    unit, size = next((unit, size) for unit, size in _RENDER_NS if nanos % size == 0)
    return f"{nanos // size}{unit}"
