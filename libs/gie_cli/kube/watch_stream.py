"""Watches: newline-delimited JSON events over one chunked HTTP response.

* From ``resourceVersion`` unset or ``"0"``: a synthetic ADDED for every existing object,
  then every change (as the real server does).
* From a version N: every change after N, if the history still holds them; otherwise a
  single ERROR event carrying a 410 Expired Status, and the stream ends.
* ``sendInitialEvents=true`` (the watch-list protocol): the ADDED events, then a BOOKMARK
  annotated ``k8s.io/initial-events-end``, then the changes.
* ``allowWatchBookmarks=true``: a BOOKMARK with the current version every
  ``bookmark_interval`` seconds while nothing else is sent.
* ``timeoutSeconds``: the stream ends after that long (at most ``max_seconds``).
* Selectors: an object that stops matching is sent as DELETED, one that starts matching
  as ADDED.

Concurrency: the initial state and the subscription are taken in one synchronous step,
so no change is missed or sent twice; each stream is one task on the server's loop.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from gie_cli.kube import field_errors as fe
from gie_cli.kube.bodies import parse_bool
from gie_cli.kube.history import ADDED, DELETED, MODIFIED, Change
from gie_cli.kube.objects import Obj
from gie_cli.kube.registry import Registry
from gie_cli.kube.revisions import parse_resource_version
from gie_cli.kube.selectors import Selector
from gie_cli.kube.status import KubeError, bad_request, expired, invalid
from gie_cli.kube.targets import Target

__all__ = ["WatchRequest", "run_watch"]

BOOKMARK = "BOOKMARK"
ERROR = "ERROR"
INITIAL_EVENTS_END = "k8s.io/initial-events-end"

Write = Callable[[dict[str, Any]], Awaitable[None]]
Transform = Callable[[Obj], Obj]


@dataclass(frozen=True, slots=True)
class WatchRequest:
    selector: Selector
    resource_version: str = ""
    match: str = ""
    bookmarks: bool = False
    timeout_s: float | None = None
    send_initial_events: bool | None = None

    @classmethod
    def parse(cls, query: dict[str, list[str]], selector: Selector) -> WatchRequest:
        def last(name: str) -> str:
            return (query.get(name) or [""])[-1]

        timeout_text = last("timeoutSeconds")
        if timeout_text and not re.fullmatch(r"-?[0-9]{1,9}", timeout_text):
            raise bad_request(f"invalid timeoutSeconds: {timeout_text!r}")
        # As the API server: 0 or less is no timeout of the client's (the server's own).
        timeout_s = float(timeout_text) if timeout_text and int(timeout_text) > 0 else None
        if last("resourceVersion"):  # refused before the response starts, not in its body
            parse_resource_version(last("resourceVersion"))
        initial = parse_bool(last("sendInitialEvents"), "sendInitialEvents")
        request = cls(
            selector=selector,
            resource_version=last("resourceVersion"),
            match=last("resourceVersionMatch"),
            bookmarks=bool(parse_bool(last("allowWatchBookmarks"), "allowWatchBookmarks")),
            timeout_s=timeout_s,
            send_initial_events=initial,
        )
        if request.send_initial_events is not None:
            errors = []
            if request.match != "NotOlderThan":
                errors.append(
                    fe.forbidden(
                        "resourceVersionMatch",
                        "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                    )
                )
            if request.send_initial_events and not request.bookmarks:
                errors.append(
                    fe.forbidden(
                        "allowWatchBookmarks",
                        "sendInitialEvents requires setting allowWatchBookmarks to true",
                    )
                )
            if errors:
                raise invalid("ListOptions", "meta.k8s.io", "", errors)
        elif request.match:
            raise invalid(
                "ListOptions",
                "meta.k8s.io",
                "",
                [
                    fe.forbidden(
                        "resourceVersionMatch",
                        "resourceVersionMatch is forbidden for watch unless sendInitialEvents "
                        "is provided",
                    )
                ],
            )
        return request


def _classify(
    change: Change, selector: Selector, shown: Callable[[Obj], Obj]
) -> tuple[str, Obj] | None:
    """The event a change is for this watch, or None when the watch does not see it."""
    now = selector.matches(shown(change.obj))
    before = change.prev is not None and selector.matches(shown(change.prev))
    if change.type == ADDED:
        return (ADDED, change.obj) if now else None
    if change.type == DELETED:
        return (DELETED, change.obj) if before or now else None
    if now and before:
        return (MODIFIED, change.obj)
    if now:
        return (ADDED, change.obj)
    if before:
        return (DELETED, change.obj)
    return None


@dataclass(slots=True)
class _Start:
    events: list[tuple[str, Obj]]
    error: KubeError | None
    initial_end_rv: int | None


def _start(
    registry: Registry, target: Target, request: WatchRequest, shown: Callable[[Obj], Obj]
) -> _Start:
    store = registry.store

    def current_objects() -> list[tuple[str, Obj]]:
        return [
            (ADDED, obj)
            for obj in store.items(target.rtype.key, target.namespace)
            if request.selector.matches(shown(obj))
        ]

    if request.send_initial_events:
        return _Start(current_objects(), None, store.revisions.current)
    if request.resource_version in ("", "0") and request.send_initial_events is None:
        return _Start(current_objects(), None, None)
    if request.resource_version in ("", "0"):
        return _Start([], None, None)
    rv = parse_resource_version(request.resource_version)
    if not store.history.covers(rv):
        return _Start(
            [], expired(f"too old resource version: {rv} ({store.history.oldest_servable})"), None
        )
    events = []
    for change in store.history.since(rv):
        if change.key == target.rtype.key and target.namespace in (None, change.namespace):
            event = _classify(change, request.selector, shown)
            if event is not None:
                events.append(event)
    return _Start(events, None, None)


async def run_watch(
    registry: Registry,
    target: Target,
    request: WatchRequest,
    *,
    write: Write,
    transform: Transform,
    bookmark_interval: float,
    max_seconds: float,
) -> None:
    """Stream the watch through ``write`` (one event dict per call) until it ends."""
    store, hub = registry.store, registry.store.hub

    def shown(obj: Obj) -> Obj:
        return registry.shown(target, obj)

    start = _start(registry, target, request, shown)
    subscription = (
        hub.subscribe(target.rtype.key, target.namespace) if start.error is None else None
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + min(
        request.timeout_s if request.timeout_s is not None else max_seconds, max_seconds
    )
    kind_stub = {"kind": target.rtype.kind, "apiVersion": target.api_version}
    try:
        for kind, obj in start.events:
            await write({"type": kind, "object": transform(shown(obj))})
        if start.error is not None:
            await write({"type": ERROR, "object": start.error.status})
            return
        if start.initial_end_rv is not None:
            metadata = {
                "resourceVersion": str(start.initial_end_rv),
                "annotations": {INITIAL_EVENTS_END: "true"},
            }
            await write({"type": BOOKMARK, "object": {**kind_stub, "metadata": metadata}})
        assert subscription is not None
        next_bookmark = loop.time() + bookmark_interval
        while True:
            now = loop.time()
            if now >= deadline:
                return
            wait = deadline - now
            if request.bookmarks:
                wait = min(wait, max(next_bookmark - now, 0.0))
            try:
                change = await asyncio.wait_for(subscription.queue.get(), timeout=wait)
            except TimeoutError:
                if (
                    request.bookmarks
                    and loop.time() >= next_bookmark
                    and subscription.queue.empty()
                ):
                    metadata = {"resourceVersion": str(store.revisions.current)}
                    await write({"type": BOOKMARK, "object": {**kind_stub, "metadata": metadata}})
                    next_bookmark = loop.time() + bookmark_interval
                continue
            if change is None:
                return
            event = _classify(change, request.selector, shown)
            if event is not None:
                await write({"type": event[0], "object": transform(shown(event[1]))})
    finally:
        if subscription is not None:
            hub.unsubscribe(subscription)
            subscription.close()
