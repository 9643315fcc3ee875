"""A small parser for the few series the collector needs from Prometheus text.

Only sample lines whose metric name is in ``wanted`` are parsed; everything
else is skipped without splitting. Malformed wanted lines raise
:class:`MetricsPageError`, so a garbage page is reported instead of half-read.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_LABEL = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')


class MetricsPageError(ValueError):
    """The metrics page is not valid Prometheus text for a wanted series."""


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def _parse_labels(text: str, line: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        match = _LABEL.match(text, pos)
        if match is None:
            raise MetricsPageError(f"bad labels in line {line[:120]!r}")
        labels[match.group(1)] = match.group(2).replace('\\"', '"').replace("\\\\", "\\")
        pos = match.end()
    return labels


def parse_samples(page: str, wanted: frozenset[str]) -> list[Sample]:
    """Samples of the ``wanted`` metric names, in page order."""
    samples: list[Sample] = []
    for raw in page.splitlines():
        line = raw.strip()
        if not line or line[0] == "#":
            continue
        match = _NAME.match(line)
        if match is None or match.group(0) not in wanted:
            continue
        name, tail = match.group(0), line[match.end() :]
        labels: dict[str, str] = {}
        if tail.startswith("{"):
            close = tail.rfind("}")
            if close < 0:
                raise MetricsPageError(f"unclosed labels in line {line[:120]!r}")
            labels = _parse_labels(tail[1:close], line)
            tail = tail[close + 1 :]
        rest = tail.split()
        if not rest:
            raise MetricsPageError(f"no value in line {line[:120]!r}")
        try:
            value = float(rest[0])
        except ValueError as exc:
            raise MetricsPageError(f"bad value in line {line[:120]!r}") from exc
        if math.isnan(value) or math.isinf(value):
            raise MetricsPageError(f"non-finite value in line {line[:120]!r}")
        samples.append(Sample(name, labels, value))
    return samples
