"""Metric specs in upstream's syntax: ``name`` or ``name{label=value,...}``.

A spec selects the series of one metric whose labels include every given pair. Values may
be bare (``request_type=waiting``, as upstream writes them) or quoted
(``request_type="waiting"``). Parsing is strict: a malformed spec is a start-up error that
names the spec.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["MetricSpec", "parse_spec"]

_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """A metric name and the label pairs its series must carry."""

    name: str
    labels: tuple[tuple[str, str], ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """True when every pair of the spec is among ``labels``."""
        return all(labels.get(key) == value for key, value in self.labels)

    def __str__(self) -> str:
        if not self.labels:
            return self.name
        return self.name + "{" + ",".join(f"{k}={v}" for k, v in self.labels) + "}"


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def parse_spec(text: str) -> MetricSpec:
    """Parse ``name{label=value,...}``; raise ``ValueError`` naming the problem."""
    spec = text.strip()
    open_at, close_at = spec.find("{"), spec.find("}")
    if open_at < 0 and close_at < 0:
        name, body = spec, None
    elif open_at < 0 or close_at < open_at + 2 or close_at != len(spec) - 1:
        raise ValueError(f"invalid metric spec {text!r}: malformed label block")
    else:
        name, body = spec[:open_at].strip(), spec[open_at + 1 : close_at]
    if not _NAME.fullmatch(name):
        raise ValueError(f"invalid metric spec {text!r}: bad metric name {name!r}")
    if body is None:
        return MetricSpec(name)
    labels: list[tuple[str, str]] = []
    for pair in body.split(","):
        key, sep, value = (part.strip() for part in pair.partition("="))
        value = _unquote(value)
        if not sep or not _LABEL_NAME.fullmatch(key) or not value or "=" in value:
            raise ValueError(f"invalid metric spec {text!r}: bad label pair {pair.strip()!r}")
        labels.append((key, value))
    return MetricSpec(name, tuple(labels))
