"""The compatibility gate: what a schema change may not do to old consumers or old data.

A released schema is frozen. A current schema is compatible with a frozen one when
data written under the frozen one still validates (old data), and what old consumers
rely on still holds (old consumers):

* no field removed, and none retyped (the set of JSON types of a field is unchanged,
  ``null`` included: a field that becomes nullable is retyped);
* no optional field made required, no new required field, and no required field made
  optional (an old consumer relies on it being there);
* no constraint narrowed: a minimum raised, a maximum lowered, a minLength/minItems
  raised, a maxLength/maxItems lowered, a pattern, format or multipleOf added or
  changed, an enum or const value dropped, added fields forbidden;
* no published schema removed.

Added optional fields, added enum values (enums are documented as open) and widened
constraints pass. Descriptions, titles and defaults are free to change. Local
``$ref``s (``#/$defs/...``) are followed; a reference to another file must not change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Schema = Mapping[str, Any]
_Bound = tuple[float, bool]  # (value, exclusive)

_TYPE_ORDER = ("null", "boolean", "integer", "number", "string", "array", "object", "any")


def breaking_changes(old: Schema, new: Schema, *, name: str = "") -> list[str]:
    """Every change from ``old`` to ``new`` that breaks old consumers or old data,
    each as ``"<where>: <what>"``; empty when ``new`` is compatible."""
    comparison = _Comparison(old, new)
    comparison.compare(old, new, name or str(old.get("title", "schema")))
    return comparison.problems


def release_breaks(frozen: Mapping[str, Schema], current: Mapping[str, Schema]) -> list[str]:
    """Breaking changes from a frozen release (schemas by name) to the current ones."""
    problems: list[str] = []
    for name, old in sorted(frozen.items()):
        new = current.get(name)
        if new is None:
            problems.append(f"{name}: schema removed (its type is no longer published)")
            continue
        if old.get("$id") != new.get("$id"):
            problems.append(f"{name}: $id changed from {old.get('$id')} to {new.get('$id')}")
        problems.extend(breaking_changes(old, new, name=name))
    return problems


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self._roots = (old_root, new_root)
        self._seen: set[tuple[str, str]] = set()
        self.problems: list[str] = []

    def compare(self, old: Schema, new: Schema, where: str) -> None:
        old, old_ref = _resolve(self._roots[0], old)
        new, new_ref = _resolve(self._roots[1], new)
        if old_ref is not None and new_ref is not None:
            if (old_ref, new_ref) in self._seen:  # a recursive model: compared already
                return
            self._seen.add((old_ref, new_ref))
        if "$ref" in old or "$ref" in new:  # a reference to another document
            if old.get("$ref") != new.get("$ref"):
                self._add(where, f"reference changed from {old.get('$ref')} to {new.get('$ref')}")
            return
        old_branches, new_branches = _branches(self._roots[0], old), _branches(self._roots[1], new)
        if old_branches.keys() != new_branches.keys():
            self._add(
                where,
                f"retyped from {_types_text(old_branches)} to {_types_text(new_branches)}",
            )
        for json_type in sorted(old_branches.keys() & new_branches.keys(), key=_TYPE_ORDER.index):
            self._compare_typed(json_type, old_branches[json_type], new_branches[json_type], where)

    def _compare_typed(self, json_type: str, old: Schema, new: Schema, where: str) -> None:
        self._compare_values(old, new, where)
        if json_type in {"integer", "number"}:
            self._compare_numbers(old, new, where)
        elif json_type == "string":
            self._compare_minmax(old, new, where, "minLength", "maxLength")
            for keyword in ("pattern", "format", "contentEncoding"):
                self._compare_added_or_changed(old, new, where, keyword)
        elif json_type == "array":
            self._compare_minmax(old, new, where, "minItems", "maxItems")
            if new.get("uniqueItems") and not old.get("uniqueItems"):
                self._add(where, "items must now be unique")
            self._compare_items(old, new, where)
        elif json_type == "object":
            self._compare_objects(old, new, where)

    def _compare_values(self, old: Schema, new: Schema, where: str) -> None:
        old_values, new_values = _allowed_values(old), _allowed_values(new)
        if new_values is None:
            return
        if old_values is None:
            self._add(where, f"values restricted to {_values_text(new_values)}")
            return
        dropped = [value for value in old_values if value not in new_values]
        if dropped:
            self._add(where, f"enum narrowed: {_values_text(dropped)} no longer allowed")

    def _compare_numbers(self, old: Schema, new: Schema, where: str) -> None:
        old_low, new_low = _lower(old), _lower(new)
        if _narrower(old_low, new_low, raised=True):
            self._add(
                where, f"minimum raised from {_bound_text(old_low)} to {_bound_text(new_low)}"
            )
        old_high, new_high = _upper(old), _upper(new)
        if _narrower(old_high, new_high, raised=False):
            self._add(
                where, f"maximum lowered from {_bound_text(old_high)} to {_bound_text(new_high)}"
            )
        self._compare_added_or_changed(old, new, where, "multipleOf")

    def _compare_minmax(self, old: Schema, new: Schema, where: str, low: str, high: str) -> None:
        if new.get(low, 0) > old.get(low, 0):
            self._add(where, f"{low} raised from {old.get(low, 0)} to {new[low]}")
        if high in new and (high not in old or new[high] < old[high]):
            self._add(where, f"{high} lowered from {old.get(high, 'none')} to {new[high]}")

    def _compare_added_or_changed(self, old: Schema, new: Schema, where: str, keyword: str) -> None:
        if keyword in new and new[keyword] != old.get(keyword):
            before = f"{old[keyword]!r}" if keyword in old else "none"
            self._add(where, f"{keyword} changed from {before} to {new[keyword]!r}")

    def _compare_items(self, old: Schema, new: Schema, where: str) -> None:
        old_prefix, new_prefix = old.get("prefixItems", []), new.get("prefixItems", [])
        if len(old_prefix) != len(new_prefix):
            self._add(where, f"tuple length changed from {len(old_prefix)} to {len(new_prefix)}")
        for position, (old_item, new_item) in enumerate(zip(old_prefix, new_prefix, strict=False)):
            self.compare(old_item, new_item, f"{where}[{position}]")
        old_items, new_items = old.get("items", {}), new.get("items", {})
        if isinstance(old_items, Mapping) and isinstance(new_items, Mapping):
            self.compare(old_items, new_items, f"{where}[]")

    def _compare_objects(self, old: Schema, new: Schema, where: str) -> None:
        old_props: Mapping[str, Schema] = old.get("properties", {})
        new_props: Mapping[str, Schema] = new.get("properties", {})
        old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
        for field, old_field in old_props.items():
            path = f"{where}.{field}"
            if field not in new_props:
                self._add(path, "field removed")
                continue
            if field in new_required and field not in old_required:
                self._add(path, "optional field made required")
            elif field in old_required and field not in new_required:
                self._add(path, "required field made optional (old consumers rely on it)")
            self.compare(old_field, new_props[field], path)
        for field in sorted(new_required - old_props.keys()):
            self._add(f"{where}.{field}", "new required field (old data lacks it)")
        old_extra = old.get("additionalProperties", True)
        new_extra = new.get("additionalProperties", True)
        if new_extra is False and old_extra is not False:
            self._add(where, "added fields are now forbidden")
        elif isinstance(old_extra, Mapping) and isinstance(new_extra, Mapping):
            self.compare(old_extra, new_extra, f"{where}.*")
        elif isinstance(new_extra, Mapping) and not isinstance(old_extra, Mapping):
            self._add(where, "added fields now constrained")

    def _add(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")


def _resolve(root: Schema, node: Schema) -> tuple[Schema, str | None]:
    """``node`` with local references followed, and the last reference followed."""
    ref: str | None = None
    for _ in range(32):
        target = node.get("$ref")
        if not isinstance(target, str) or not target.startswith("#/"):
            return node, ref
        ref = target
        resolved: Any = root
        for part in target[2:].split("/"):
            resolved = resolved[part.replace("~1", "/").replace("~0", "~")]
        node = resolved
    raise ValueError(f"reference chain too long at {ref}")


def _branches(root: Schema, node: Schema) -> dict[str, Schema]:
    """The node per JSON type it admits (``anyOf``/``oneOf`` alternatives merged)."""
    alternatives = node.get("anyOf") or node.get("oneOf")
    if alternatives:
        branches: dict[str, Schema] = {}
        for alternative in alternatives:
            resolved, _ = _resolve(root, alternative)
            for json_type, branch in _branches(root, resolved).items():
                known = branches.get(json_type)
                branches[json_type] = branch if known is None else _merged(known, branch)
        return branches
    declared = node.get("type")
    if declared is None:
        return {"any": node}
    types = [declared] if isinstance(declared, str) else list(declared)
    return {json_type: node for json_type in types}


def _merged(first: Schema, second: Schema) -> Schema:
    """Two alternatives of one JSON type as one: the union of their allowed values
    (other keywords are taken from the first)."""
    merged = {key: value for key, value in first.items() if key not in {"enum", "const"}}
    first_values, second_values = _allowed_values(first), _allowed_values(second)
    if first_values is not None and second_values is not None:
        merged["enum"] = first_values + [v for v in second_values if v not in first_values]
    return merged


def _allowed_values(node: Schema) -> list[Any] | None:
    if "const" in node:
        return [node["const"]]
    enum = node.get("enum")
    return list(enum) if isinstance(enum, list) else None


def _lower(node: Schema) -> _Bound | None:
    bounds = [(float(node["minimum"]), False)] if "minimum" in node else []
    if "exclusiveMinimum" in node:
        bounds.append((float(node["exclusiveMinimum"]), True))
    return max(bounds) if bounds else None  # the tighter: larger, exclusive at a tie


def _upper(node: Schema) -> _Bound | None:
    bounds = [(float(node["maximum"]), False)] if "maximum" in node else []
    if "exclusiveMaximum" in node:
        bounds.append((float(node["exclusiveMaximum"]), True))
    return min(bounds, key=lambda bound: (bound[0], not bound[1])) if bounds else None


def _narrower(old: _Bound | None, new: _Bound | None, *, raised: bool) -> bool:
    """Whether bound ``new`` admits less than ``old`` (a lower bound when ``raised``)."""
    if new is None:
        return False
    if old is None:
        return True
    if new[0] != old[0]:
        return new[0] > old[0] if raised else new[0] < old[0]
    return new[1] and not old[1]


def _bound_text(bound: _Bound | None) -> str:
    if bound is None:
        return "none"
    value = int(bound[0]) if bound[0].is_integer() else bound[0]
    return f"{value} (exclusive)" if bound[1] else str(value)


def _types_text(branches: Mapping[str, Schema]) -> str:
    return " or ".join(sorted(branches, key=_TYPE_ORDER.index))


def _values_text(values: list[Any]) -> str:
    return ", ".join(repr(value) for value in values)
