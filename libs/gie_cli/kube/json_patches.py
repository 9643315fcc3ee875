"""JSON merge patch (RFC 7386) and JSON patch (RFC 6902).

Errors are worded as the API server words them: a patch document that cannot be read
is a 400 BadRequest; a patch that cannot be applied to the object (a missing path, a
failed ``test``) is a 422.
"""

from __future__ import annotations

import copy
from typing import Any

from gie_cli.kube.status import KubeError, bad_request, status_object

__all__ = ["apply_json_patch", "apply_merge_patch"]


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, ``null`` removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def _unprocessable(message: str) -> KubeError:
    return KubeError(status_object(code=422, reason="Invalid", message=message))


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise _unprocessable(f"invalid JSON pointer: {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _index(container: list[Any], token: str, path: str, *, insert: bool) -> int:
    if insert and token == "-":
        return len(container)
    if not (token.isascii() and token.isdigit() and len(token) <= 18):
        raise _unprocessable(f"invalid array index {token!r} in {path}")
    index = int(token)
    if index > len(container) or (not insert and index == len(container)):
        raise _unprocessable(f"index out of range {index} in {path}")
    return index


def _parent(doc: Any, parts: list[str], path: str) -> Any:
    node = doc
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list):
            node = node[_index(node, part, path, insert=False)]
        else:
            raise _unprocessable(f"doc is missing path: {path}: missing value")
    return node


def _get(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent, last = _parent(doc, parts, path), parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, path, insert=False)]
    raise _unprocessable(f"doc is missing path: {path}: missing value")


def _remove(doc: Any, path: str, op: str) -> Any:
    parts = _pointer(path)
    parent, last = _parent(doc, parts, path), parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _unprocessable(f"{op} operation does not apply: doc is missing key: {path}")
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, path, insert=False))
    raise _unprocessable(f"{op} operation does not apply: doc is missing path: {path}")


def _add(doc: Any, path: str, value: Any, *, replace: bool = False) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent, last = _parent(doc, parts, path), parts[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise _unprocessable(
                f"replace operation does not apply: doc is missing key: {path}: missing value"
            )
        parent[last] = value
    elif isinstance(parent, list):
        index = _index(parent, last, path, insert=not replace)
        if replace:
            parent[index] = value
        else:
            parent.insert(index, value)
    else:
        raise _unprocessable(f"add operation does not apply: doc is missing path: {path}")
    return doc


def apply_json_patch(target: Any, patch: Any) -> Any:
    """RFC 6902: apply the operations in order to a copy of ``target``."""
    if not isinstance(patch, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(target)
    for operation in patch:
        if not isinstance(operation, dict) or not isinstance(operation.get("op"), str):
            raise bad_request("invalid JSON patch operation: missing 'op'")
        op, path = operation["op"], operation.get("path")
        if not isinstance(path, str):
            raise _unprocessable(f"{op} operation: missing 'path'")
        if op == "add":
            doc = _add(doc, path, copy.deepcopy(operation.get("value")))
        elif op == "remove":
            _remove(doc, path, op)
        elif op == "replace":
            doc = _add(doc, path, copy.deepcopy(operation.get("value")), replace=True)
        elif op in ("move", "copy"):
            source = operation.get("from")
            if not isinstance(source, str):
                raise _unprocessable(f"{op} operation: missing 'from'")
            value = _remove(doc, source, op) if op == "move" else copy.deepcopy(_get(doc, source))
            doc = _add(doc, path, value)
        elif op == "test":
            if _get(doc, path) != operation.get("value"):
                raise _unprocessable(f"testing value {path} failed: test failed")
        else:
            raise bad_request(f"Unexpected kind: {op}")
    return doc
