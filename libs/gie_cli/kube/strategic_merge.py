"""Strategic merge patch, for the built-in kinds (``application/strategic-merge-patch+json``).

Like a JSON merge patch, except that lists the type marks as merging (Pod containers by
``name``, conditions by ``type``, ...; see :mod:`gie_cli.kube.patch_meta`) merge item by
item instead of being replaced, and these directives are understood: ``$patch``
(``replace``, ``delete``, ``merge``) on maps and list items, ``$retainKeys``,
``$setElementOrder/<list>`` and ``$deleteFromPrimitiveList/<list>``.
"""

from __future__ import annotations

import copy
from typing import Any

from gie_cli.kube.patch_meta import MergeList, Node, child
from gie_cli.kube.status import bad_request

__all__ = ["apply_strategic_merge_patch"]

_PATCH = "$patch"
_RETAIN = "$retainKeys"
_ORDER = "$setElementOrder/"
_DELETE_PRIMITIVE = "$deleteFromPrimitiveList/"


def apply_strategic_merge_patch(
    original: dict[str, Any], patch: Any, meta: dict[str, Node]
) -> dict[str, Any]:
    if not isinstance(patch, dict):
        raise bad_request("the strategic merge patch must be a JSON object")
    merged = _merge_map(copy.deepcopy(original), patch, meta)
    return merged if merged is not None else {}


def _merge_map(original: Any, patch: dict[str, Any], meta: Node | None) -> dict[str, Any] | None:
    directive = patch.get(_PATCH)
    if directive == "delete":
        return None
    body = {k: v for k, v in patch.items() if k != _PATCH}
    if directive == "replace":
        stripped: dict[str, Any] = _strip(body)
        return stripped
    if directive not in (None, "merge"):
        raise bad_request(f"Unknown patch directive: {directive}")
    result: dict[str, Any] = dict(original) if isinstance(original, dict) else {}
    orders: dict[str, list[Any]] = {}
    for key, value in body.items():
        if key == _RETAIN:
            continue
        if key.startswith(_ORDER):
            orders[key[len(_ORDER) :]] = value or []
        elif key.startswith(_DELETE_PRIMITIVE):
            name = key[len(_DELETE_PRIMITIVE) :]
            result[name] = [item for item in result.get(name) or [] if item not in value]
        elif value is None:
            result.pop(key, None)
        else:
            merged = _merge_value(result.get(key), value, child(meta, key))
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
    if isinstance(body.get(_RETAIN), list):
        retained = set(body[_RETAIN])
        result = {k: v for k, v in result.items() if k in retained}
    for name, order in orders.items():
        if isinstance(result.get(name), list):
            result[name] = _ordered(result[name], order, child(meta, name))
    return result


def _merge_value(original: Any, patch: Any, meta: Node | None) -> Any:
    if isinstance(patch, dict):
        return _merge_map(original, patch, meta if isinstance(meta, dict) else None)
    if isinstance(patch, list) and isinstance(meta, MergeList):
        return _merge_list(original if isinstance(original, list) else [], patch, meta)
    return _strip(patch)


def _merge_list(original: list[Any], patch: list[Any], meta: MergeList) -> list[Any]:
    if meta.key is None:
        return original + [item for item in patch if item not in original]
    if any(isinstance(i, dict) and i.get(_PATCH) == "replace" for i in patch):
        return [_strip(i) for i in patch if not (isinstance(i, dict) and _PATCH in i)]
    result = list(original)
    for item in patch:
        if not isinstance(item, dict) or meta.key not in item:
            raise bad_request(f"map: {item} does not contain declared merge key: {meta.key}")
        position = next(
            (
                n
                for n, o in enumerate(result)
                if isinstance(o, dict) and o.get(meta.key) == item[meta.key]
            ),
            None,
        )
        if item.get(_PATCH) == "delete":
            if position is not None:
                del result[position]
            continue
        merged = _merge_map(result[position] if position is not None else {}, item, meta.item)
        if position is None:
            result.append(merged)
        else:
            result[position] = merged
    return result


def _ordered(items: list[Any], order: list[Any], meta: Node | None) -> list[Any]:
    """Put the items named by ``$setElementOrder`` first, in that order."""
    key = meta.key if isinstance(meta, MergeList) else None

    def identity(item: Any) -> Any:
        return item.get(key) if key is not None and isinstance(item, dict) else item

    wanted = [identity(entry) if isinstance(entry, dict) else entry for entry in order]
    rank = {value: n for n, value in enumerate(wanted) if isinstance(value, str | int)}
    return sorted(items, key=lambda item: rank.get(identity(item), len(rank)))


def _strip(value: Any) -> Any:
    """A patch value with its directives removed (for keys the original lacks)."""
    if isinstance(value, dict):
        if value.get(_PATCH) == "delete":
            return None
        return {
            k: _strip(v)
            for k, v in value.items()
            if k not in (_PATCH, _RETAIN)
            and not k.startswith((_ORDER, _DELETE_PRIMITIVE))
            and v is not None
        }
    if isinstance(value, list):
        return [
            _strip(item)
            for item in value
            if not (isinstance(item, dict) and item.get(_PATCH) == "delete")
        ]
    return value
