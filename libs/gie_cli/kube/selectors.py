"""Label selectors and field selectors, parsed as the API server parses them.

Label selectors follow :mod:`gie.label_selector`, the grammar ingest also uses.
Field selectors: ``field=v``, ``field==v``, ``field!=v`` over the fields a resource
supports (``metadata.name``, ``metadata.namespace`` for every resource, and for Pods
``status.phase``, ``spec.nodeName`` and a few more). A selector the server cannot parse,
or a field it does not support, is a 400 BadRequest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gie.label_selector import LabelSelectorError, Requirement, matches, parse_selector
from gie_cli.kube.status import bad_request

__all__ = ["FieldSelector", "LabelSelector", "Selector"]

Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A parsed label selector; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> LabelSelector:
        try:
            return cls(parse_selector(text or "", allow_empty=True))
        except LabelSelectorError as error:
            raise bad_request(f"unable to parse requirement: {error}") from None

    def matches(self, obj: Obj) -> bool:
        return matches(self.requirements, obj.get("metadata", {}).get("labels") or {})


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
