"""The JSONPath subset CRD printer columns use: ``.a.b``, ``.a[0]``, ``.a[*].b``,
``.a['dotted.key']`` and escaped dots (``.labels.app\\.kubernetes\\.io/name``)."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["find"]

_TOKEN = re.compile(r"\[(\d+|\*|'[^']*'|\"[^\"]*\")\]|\.((?:\\.|[^.\[\\])+)")


def _steps(path: str) -> list[str | int | None]:
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    if text.startswith("$"):
        text = text[1:]
    steps: list[str | int | None] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"unsupported JSONPath: {path!r}")
        bracket, name = match.groups()
        if name is not None:
            steps.append(name.replace("\\.", "."))
        elif bracket == "*":
            steps.append(None)
        elif bracket.isdigit():
            steps.append(int(bracket))
        else:
            steps.append(bracket[1:-1])
        position = match.end()
    return steps


def find(obj: Any, path: str) -> list[Any]:
    """Every value ``path`` selects in ``obj`` ([] when none, or the path is unsupported)."""
    try:
        steps = _steps(path)
    except ValueError:
        return []
    values = [obj]
    for step in steps:
        found: list[Any] = []
        for value in values:
            if step is None:
                if isinstance(value, list):
                    found.extend(value)
                elif isinstance(value, dict):
                    found.extend(value.values())
            elif isinstance(step, int):
                if isinstance(value, list) and step < len(value):
                    found.append(value[step])
            elif isinstance(value, dict) and step in value:
                found.append(value[step])
        values = found
    return values
