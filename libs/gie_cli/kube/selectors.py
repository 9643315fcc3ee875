"""Label selectors and field selectors, parsed as the API server parses them.

Label selectors: comma-separated requirements ``k=v``, ``k==v``, ``k!=v``,
``k in (a,b)``, ``k notin (a,b)``, ``k`` (exists), ``!k`` (does not exist), ``k>n``,
``k<n``. Field selectors: ``field=v``, ``field==v``, ``field!=v`` over the fields a
resource supports (``metadata.name``, ``metadata.namespace`` for every resource, and
for Pods ``status.phase``, ``spec.nodeName`` and a few more). A selector the server
cannot parse, or a field it does not support, is a 400 BadRequest.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gie_cli.kube.status import bad_request

__all__ = ["FieldSelector", "LabelSelector", "Selector"]

Obj = dict[str, Any]

_KEY = r"(?:[A-Za-z0-9.\-]+/)?[A-Za-z0-9](?:[A-Za-z0-9_.\-]*[A-Za-z0-9])?"
_VALUE = r"(?:[A-Za-z0-9](?:[A-Za-z0-9_.\-]*[A-Za-z0-9])?)?"
_SET = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s*\(([^)]*)\)\s*$")
_EXISTS = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")
_COMPARE = re.compile(rf"^\s*({_KEY})\s*(==|=|!=|>|<)\s*(\S*)\s*$")


def _split_requirements(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, ""
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
    return [part for part in parts if part.strip()]


def _check_value(value: str) -> str:
    if not re.fullmatch(_VALUE, value) or len(value) > 63:
        raise bad_request(f"unable to parse requirement: invalid label value: {value!r}")
    return value


def _requirement(text: str) -> Callable[[dict[str, str]], bool]:
    if match := _SET.match(text):
        key, op, values_text = match.groups()
        values = {_check_value(v.strip()) for v in values_text.split(",")}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if match := _EXISTS.match(text):
        negated, key = match.group(1) == "!", match.group(2)
        return (lambda labels: key not in labels) if negated else (lambda labels: key in labels)
    if match := _COMPARE.match(text):
        key, op, value = match.groups()
        if op in ("=", "=="):
            _check_value(value)
            return lambda labels: labels.get(key) == value
        if op == "!=":
            _check_value(value)
            return lambda labels: labels.get(key) != value
        if not re.fullmatch(r"-?\d+", value):
            raise bad_request(
                f"unable to parse requirement: for '{op}', '<', '>' operators, "
                "exactly one value is required and it must be an integer"
            )
        bound = int(value)
        return _compare(key, op, bound)
    raise bad_request(
        f"unable to parse requirement: found '{text.strip()}', "
        "expected: a label selector requirement"
    )


def _compare(key: str, op: str, bound: int) -> Callable[[dict[str, str]], bool]:
    def check(labels: dict[str, str]) -> bool:
        value = _int(labels.get(key))
        if value is None:
            return False
        return value > bound if op == ">" else value < bound

    return check


def _int(value: str | None) -> int | None:
    if value is None or not re.fullmatch(r"-?\d+", value):
        return None
    return int(value)


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A parsed label selector; the empty selector matches everything."""

    requirements: tuple[Callable[[dict[str, str]], bool], ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> LabelSelector:
        if not text or not text.strip():
            return cls()
        return cls(tuple(_requirement(part) for part in _split_requirements(text)))

    def matches(self, obj: Obj) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(requirement(labels) for requirement in self.requirements)


COMMON_FIELDS = ("metadata.name", "metadata.namespace")
POD_FIELDS = (
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
)
NAMESPACE_FIELDS = ("status.phase",)


def _field_value(obj: Obj, path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


@dataclass(frozen=True, slots=True)
class FieldSelector:
    """A parsed field selector: (field, operator, value) terms, all of which must hold."""

    terms: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def parse(cls, text: str | None, supported: tuple[str, ...]) -> FieldSelector:
        if not text or not text.strip():
            return cls()
        terms = []
        for part in re.split(r"(?<!\\),", text):
            match = re.fullmatch(r"\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*", part)
            if match is None:
                raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
            field, op, value = match.groups()
            if field not in supported:
                raise bad_request(f"field label not supported: {field}")
            terms.append((field, "!=" if op == "!=" else "=", _unescape(value)))
        return cls(tuple(terms))

    def matches(self, obj: Obj) -> bool:
        for field, op, value in self.terms:
            actual = _field_value(obj, field)
            if (actual == value) != (op == "="):
                return False
        return True

    def single_name(self) -> str | None:
        """The name when the selector is exactly ``metadata.name=<name>``."""
        if len(self.terms) == 1 and self.terms[0][:2] == ("metadata.name", "="):
            return self.terms[0][2]
        return None


@dataclass(frozen=True, slots=True)
class Selector:
    """Both selectors of one request."""

    labels: LabelSelector
    fields: FieldSelector

    def matches(self, obj: Obj | None) -> bool:
        return obj is not None and self.labels.matches(obj) and self.fields.matches(obj)
