"""Kubernetes label selectors as strings: parsed, checked, matched and written back.

The grammar is the API server's (``app=vllm,tier in (a,b),!canary,gpus>2``):

* ``key=value``, ``key==value``, ``key!=value``
* ``key in (v1,v2)``, ``key notin (v1,v2)``
* ``key`` (the label exists), ``!key`` (it does not)
* ``key>n``, ``key<n`` (the label's value is an integer above or below ``n``)

Keys are ``[prefix/]name`` (name at most 63 characters of ``[A-Za-z0-9-_.]``,
beginning and ending alphanumeric; prefix a DNS subdomain); values the same without
a prefix, possibly empty. Ingest sends selectors to the API server as written here
(normalised); the API stand-in matches objects with them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "LabelSelectorError",
    "Requirement",
    "format_selector",
    "match_labels_selector",
    "matches",
    "parse_selector",
]

_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_PREFIX = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_KEY = re.compile(rf"(?:{_PREFIX}/)?{_NAME}")
_VALUE = re.compile(rf"(?:{_NAME})?")
_INTEGER = re.compile(r"-?\d+")
_SET = re.compile(r"^(?P<key>\S+)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_BINARY = re.compile(r"^(?P<key>[^=!<>\s]+)\s*(?P<op>==|=|!=|>|<)\s*(?P<value>\S*)$")


class LabelSelectorError(ValueError):
    """A label selector that the API server would refuse; the message names the part."""


@dataclass(frozen=True, slots=True)
class Requirement:
    """One comma-separated part of a selector. ``op`` is ``=``, ``!=``, ``in``,
    ``notin``, ``exists``, ``!`` (does not exist), ``>`` or ``<``."""

    key: str
    op: str
    values: tuple[str, ...] = ()

    def render(self) -> str:
        if self.op == "exists":
            return self.key
        if self.op == "!":
            return f"!{self.key}"
        if self.op in ("in", "notin"):
            return f"{self.key} {self.op} ({','.join(self.values)})"
        return f"{self.key}{self.op}{self.values[0]}"

    def holds(self, labels: Mapping[str, str]) -> bool:
        """Whether an object with these labels satisfies this requirement."""
        value = labels.get(self.key)
        if self.op in ("=", "in"):
            return value in self.values
        if self.op in ("!=", "notin"):
            return value not in self.values
        if self.op == "exists":
            return value is not None
        if self.op == "!":
            return value is None
        if value is None or _INTEGER.fullmatch(value) is None:
            return False
        bound = int(self.values[0])
        return int(value) > bound if self.op == ">" else int(value) < bound


def _split(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _key(key: str, part: str) -> str:
    if len(key) > 317 or _KEY.fullmatch(key) is None:
        raise LabelSelectorError(f"invalid label key {key!r} in {part!r}")
    return key


def _value(value: str, part: str) -> str:
    if len(value) > 63 or _VALUE.fullmatch(value) is None:
        raise LabelSelectorError(f"invalid label value {value!r} in {part!r}")
    return value


def _requirement(raw: str) -> Requirement:
    part = raw.strip()
    if not part:
        raise LabelSelectorError("empty requirement (two commas, or a comma at an end)")
    if match := _SET.match(part):
        values = [_value(v.strip(), part) for v in match["values"].split(",")]
        if not any(values):
            raise LabelSelectorError(f"{part!r}: a set needs at least one value")
        return Requirement(_key(match["key"], part), match["op"], tuple(sorted(set(values))))
    if match := _BINARY.match(part):
        op = "=" if match["op"] == "==" else match["op"]
        if op in (">", "<") and _INTEGER.fullmatch(match["value"]) is None:
            raise LabelSelectorError(f"{part!r}: '{op}' needs exactly one integer value")
        return Requirement(_key(match["key"], part), op, (_value(match["value"], part),))
    if part.startswith("!"):
        return Requirement(_key(part[1:].strip(), part), "!")
    return Requirement(_key(part, part), "exists")


def parse_selector(text: str, *, allow_empty: bool = False) -> tuple[Requirement, ...]:
    """Parse a selector string; LabelSelectorError naming the bad part otherwise.

    An empty selector selects every object: refused unless ``allow_empty``.
    """
    if not text.strip():
        if allow_empty:
            return ()
        raise LabelSelectorError("the selector is empty (it would select every Pod)")
    return tuple(_requirement(part) for part in _split(text))


def matches(requirements: tuple[Requirement, ...], labels: Mapping[str, str]) -> bool:
    """Whether labels satisfy every requirement (the empty selector matches all)."""
    return all(requirement.holds(labels) for requirement in requirements)


def format_selector(requirements: tuple[Requirement, ...]) -> str:
    return ",".join(requirement.render() for requirement in requirements)


def match_labels_selector(match_labels: Mapping[str, str]) -> str:
    """The selector string of a ``matchLabels`` map (checked like a parsed one)."""
    if not match_labels:
        raise LabelSelectorError("matchLabels is empty (it would select every Pod)")
    requirements = tuple(
        Requirement(_key(key, key), "=", (_value(value, f"{key}={value}"),))
        for key, value in sorted(match_labels.items())
    )
    return format_selector(requirements)
