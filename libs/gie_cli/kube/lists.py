"""Lists: which state is read (``resourceVersion``, ``resourceVersionMatch``) and paging
(``limit`` / ``continue``), as the API server does them.

* ``resourceVersion`` unset, or ``"0"``: the current state. A version N with match
  ``NotOlderThan`` (the default): the current state, or 504 Timeout when N is in the
  future. Match ``Exact``: the state at N, or 410 Expired when the history no longer
  reaches back to N.
* ``limit`` cuts the (selected) items in key order; ``metadata.continue`` is an opaque
  token holding the list's version and the last key, so every page shows the state of
  the first; a token older than the history is refused with 410 Expired.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from gie_cli.kube import field_errors as fe
from gie_cli.kube.objects import Obj
from gie_cli.kube.registry import Registry
from gie_cli.kube.revisions import parse_resource_version
from gie_cli.kube.selectors import Selector
from gie_cli.kube.status import KubeError, bad_request, expired, invalid, timeout
from gie_cli.kube.targets import Target

__all__ = ["ListRequest", "list_objects"]

_CONTINUE_TOO_OLD = (
    "The provided continue parameter is too old to display a consistent list result. You "
    "can start a new list without the continue parameter, or use the continue token in "
    "this response to retrieve the remainder of the results. Continuing with the provided "
    "token results in an inconsistent list - objects that were created, modified, or "
    "deleted between the time the first chunk was returned and now may show up in the list."
)


@dataclass(frozen=True, slots=True)
class ListRequest:
    selector: Selector
    resource_version: str = ""
    match: str = ""
    limit: int = 0
    continue_token: str = ""

    @classmethod
    def parse(cls, query: dict[str, list[str]], selector: Selector) -> ListRequest:
        def last(name: str) -> str:
            return (query.get(name) or [""])[-1]

        limit_text = last("limit")
        if limit_text and not limit_text.lstrip("-").isdigit():
            raise bad_request(f"invalid limit: {limit_text!r}")
        request = cls(
            selector=selector,
            resource_version=last("resourceVersion"),
            match=last("resourceVersionMatch"),
            limit=max(int(limit_text or 0), 0),
            continue_token=last("continue"),
        )
        request.check()
        return request

    def check(self) -> None:
        errors = []
        if self.match and not self.resource_version:
            errors.append(
                fe.forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                )
            )
        if self.match and self.match not in ("Exact", "NotOlderThan"):
            errors.append(
                fe.not_supported("resourceVersionMatch", self.match, ["Exact", "NotOlderThan"])
            )
        if self.continue_token and self.resource_version not in ("", "0"):
            errors.append(
                fe.forbidden(
                    "resourceVersion",
                    "specifying resource version is not allowed when using continue",
                )
            )
        if self.match == "Exact" and self.resource_version == "0":
            errors.append(
                fe.forbidden(
                    "resourceVersionMatch",
                    'resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
                )
            )
        if errors:
            raise invalid("ListOptions", "meta.k8s.io", "", errors)


def _encode_token(rv: int, start: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_token(token: str) -> tuple[int, str]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return int(data["rv"]), str(data["start"])
    except (ValueError, KeyError, TypeError):
        raise bad_request(f"continue key is not valid: {token!r}") from None


def _key(obj: Obj) -> str:
    metadata = obj["metadata"]
    namespace = metadata.get("namespace")
    return f"{namespace}/{metadata['name']}" if namespace else str(metadata["name"])


def _order(key: str) -> tuple[str, str]:
    """Where ``key`` (namespace/name, or name) sorts in the store: by namespace, then
    name. As strings "a-b/y" would sort before "a/x" ('-' is before '/'), and a page
    ending in namespace "a" would skip namespace "a-b"."""
    namespace, _, name = key.rpartition("/")
    return namespace, name


def list_objects(registry: Registry, target: Target, request: ListRequest) -> dict[str, Any]:
    """The List object answering ``request``, items in the target's version."""
    store = registry.store
    current = store.revisions.current
    start = ""
    if request.continue_token:
        rv, start = _decode_token(request.continue_token)
        try:
            objects = store.items_at(target.rtype.key, target.namespace, rv)
        except KubeError:
            raise expired(_CONTINUE_TOO_OLD) from None
    elif request.resource_version in ("", "0"):
        rv, objects = current, store.items(target.rtype.key, target.namespace)
    else:
        rv = parse_resource_version(request.resource_version)
        if rv > current:
            raise timeout(f"Too large resource version: {rv}, current: {current}")
        if request.match == "Exact":
            objects = store.items_at(target.rtype.key, target.namespace, rv)
        else:
            rv, objects = current, store.items(target.rtype.key, target.namespace)
    after = _order(start) if start else None
    shown = [
        registry.shown(target, obj) for obj in objects if after is None or _order(_key(obj)) > after
    ]
    items = [obj for obj in shown if request.selector.matches(obj)]
    metadata: dict[str, Any] = {"resourceVersion": str(rv)}
    if request.limit and len(items) > request.limit:
        items, rest = items[: request.limit], items[request.limit :]
        metadata["continue"] = _encode_token(rv, _key(items[-1]))
        if not request.selector.labels.requirements and not request.selector.fields.terms:
            metadata["remainingItemCount"] = len(rest)
    return {
        "kind": target.rtype.list_kind_name,
        "apiVersion": target.api_version,
        "metadata": metadata,
        "items": items,
    }
