"""Hand-rendered Prometheus text exposition (format 0.0.4), shared by every page flavour.

Rendering by hand (instead of a prometheus-client registry per server) keeps scrapes cheap
and makes each page a pure function of an engine snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["CONTENT_TYPE", "Family", "render_families"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{key}="{_escape(value)}"' for key, value in sorted(labels.items()))
    return "{" + inner + "}"


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family: name, type, help and its samples (labels, value)."""

    name: str
    kind: str
    help: str
    samples: tuple[tuple[Mapping[str, str], float], ...]


def render_families(families: Iterable[Family]) -> str:
    """The exposition text of ``families``, newline-terminated."""
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {family.help}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        # Counters are exposed with the conventional ``_total`` suffix already in the name.
        lines.extend(
            f"{family.name}{_labels(labels)} {float(value)!r}" for labels, value in family.samples
        )
    lines.append("")
    return "\n".join(lines)
