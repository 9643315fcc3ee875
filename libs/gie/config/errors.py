"""Errors of configuration parsing in the kernel.

GieConfigError      a configuration section is invalid (also a ValueError); its
                    ``problems`` name each field at fault

A service translates a :class:`GieConfigError` into its own way of reporting a broken
configuration (the picker's ``ConfigError`` lines, a ``ConfigFileError`` at start-up)
and keeps each problem's field path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ConfigProblem", "FieldPath", "GieConfigError", "dotted"]

# Keys and list indexes from the document's root: ("plugins", 2, "type").
FieldPath = tuple[str | int, ...]


def dotted(path: FieldPath) -> str:
    """A path as the document would spell it: ``saturationDetector.queueDepthThreshold``,
    ``plugins[2].type``."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
    return text


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem: where it is in the document (``path``), and what is wrong."""

    path: FieldPath
    message: str

    def __str__(self) -> str:
        return f"{dotted(self.path)}: {self.message}" if self.path else self.message


class GieConfigError(ValueError):
    """A configuration section is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        if not problems:
            raise ValueError("a GieConfigError needs at least one problem")
        self.problems = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))
