"""An informer: a local cache of one resource kept equal to the API server's.

It lists, then watches from the list's resourceVersion with bookmarks. A dropped
connection or a watch the server ended resumes from the last resourceVersion seen
(an object's or a bookmark's), so no change is missed or seen twice. A 410 Gone
(that version is no longer kept) relists, and the relist is compared with the cache:
the handler gets ADDED / MODIFIED / DELETED for exactly what changed in between. Other
failures are logged, counted and retried after a jittered exponential backoff.

``retarget(selector)`` changes the label selector: the current watch is stopped and
a relist with the new selector reports what left and what joined. A ``None``
selector (for a watcher built with ``selector_required``) empties the cache.

Concurrency: ``run()`` is one task; ``handler`` is called on it, synchronously, for
each change, after the cache was updated, and ``on_listed`` after every list (even
one that changed nothing). ``retarget`` may be called from any task
on the same loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter

from gie_ingest.kube.backoff import Backoff
from gie_ingest.kube.errors import Expired, WatchFailed
from gie_ingest.kube.resource import Obj, ResourceClient

_log = structlog.get_logger("gie.ingest.kube")

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"
# A watch that ends sooner than this without one event is a failure (backed off).
SHORT_WATCH_S = 1.0


@dataclass(frozen=True, slots=True)
class WatchEvent:
    type: str  # ADDED | MODIFIED | DELETED
    obj: Obj


class WatchMetrics:
    """Counters of every watcher of the service, labelled by resource."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.errors = Counter(
            "gie_ingest_kube_watch_errors_total",
            "Failed list or watch requests (retried after a backoff), by resource and reason.",
            ["resource", "reason"],
            registry=registry,
        )
        self.relists = Counter(
            "gie_ingest_kube_relists_total",
            "Lists of a resource, by cause: start, expired (410 Gone), api-changed (discovery "
            "chose another group), selector, error.",
            ["resource", "cause"],
            registry=registry,
        )
        self.events = Counter(
            "gie_ingest_kube_watch_events_total",
            "Changes of watched objects seen (ADDED, MODIFIED, DELETED), by resource.",
            ["resource", "type"],
            registry=registry,
        )


def object_key(obj: Obj) -> str:
    metadata = obj.get("metadata") or {}
    return f"{metadata.get('namespace', '')}/{metadata.get('name', '')}"


class Watcher:
    """Keeps ``cache`` (namespace/name -> object) equal to the server's objects."""

    def __init__(
        self,
        resource: ResourceClient,
        *,
        handler: Callable[[WatchEvent], None],
        on_listed: Callable[[], None] = lambda: None,
        metrics: WatchMetrics,
        backoff: Backoff,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        label_selector: str | None = None,
        selector_required: bool = False,
        timeout_s: int = 300,
    ) -> None:
        self.resource = resource
        self.cache: dict[str, Obj] = {}
        self.synced = asyncio.Event()  # set after the first list
        self._handler = handler
        self._on_listed = on_listed
        self._metrics = metrics
        self._backoff = backoff
        self._sleep = sleep
        self._selector = label_selector
        self._selector_required = selector_required
        self._timeout_s = timeout_s
        self._version: str | None = None
        self._listed: tuple[str | None] | None = None  # the selector of the cache
        self._cause = "start"
        self._cycle: asyncio.Task[None] | None = None
        self._events = 0  # events received, over every watch

    @property
    def resource_version(self) -> str | None:
        """The last version seen (a list's, an object's or a bookmark's)."""
        return self._version

    @property
    def label_selector(self) -> str | None:
        return self._selector

    @property
    def current(self) -> bool:
        """True when the cache was listed with the present selector (after a retarget,
        False until the relist is done)."""
        return self._listed == (self._selector,)

    def retarget(self, label_selector: str | None) -> None:
        """Watch with another selector from now on (relist; the difference is reported)."""
        if label_selector == self._selector:
            return
        self._selector = label_selector
        self._version = None
        self._cause = "selector"
        if self._cycle is not None:
            self._cycle.cancel()

    async def run(self) -> None:
        """Run until cancelled."""
        while True:
            self._cycle = asyncio.create_task(self._run_cycle())
            try:
                await self._cycle
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    self._cycle.cancel()
                    raise
                # retargeted: start over with the new selector

    async def _run_cycle(self) -> None:
        if self._selector is None and self._selector_required:
            self._replace([])
            self._listed = (None,)
            self.synced.set()
            self._on_listed()
            await asyncio.Event().wait()  # until retargeted
        while True:
            try:
                if self._version is None:
                    await self._relist()
                started, events = time.monotonic(), self._events
                await self._watch()
                if self._events == events and time.monotonic() - started < SHORT_WATCH_S:
                    # A server or proxy that ends every watch at once: reopening it at once
                    # would hammer it (client-go backs off on such a "very short watch").
                    raise WatchFailed(
                        f"{self.resource.name}: the watch ended at once, with no event",
                        reason="short-watch",
                    )
            except Expired as exc:
                self._metrics.errors.labels(self.resource.name, exc.reason).inc()
                _log.info("relisting", resource=self.resource.name, cause=exc.reason)
                self._version = None
                self._cause = exc.reason  # expired (410 Gone) or api-changed
            except WatchFailed as exc:
                self._metrics.errors.labels(self.resource.name, exc.reason).inc()
                delay = self._backoff.next()
                _log.warning(
                    "watch failed; retrying",
                    resource=self.resource.name,
                    error=str(exc),
                    retry_in_s=round(delay, 3),
                )
                if self._version is None:
                    self._cause = "error"
                await self._sleep(delay)
            except Exception:  # an answer no rule foresaw: logged, counted, retried
                self._metrics.errors.labels(self.resource.name, "internal").inc()
                delay = self._backoff.next()
                _log.exception(
                    "watch failed unexpectedly; retrying",
                    resource=self.resource.name,
                    retry_in_s=round(delay, 3),
                )
                self._version = None
                self._cause = "error"
                await self._sleep(delay)

    async def _relist(self) -> None:
        items, version = await self.resource.list(label_selector=self._selector)
        self._metrics.relists.labels(self.resource.name, self._cause).inc()
        self._replace(items)
        self._listed = (self._selector,)
        self._version = version
        self._backoff.reset()
        self.synced.set()
        self._on_listed()

    async def _watch(self) -> None:
        assert self._version is not None
        stream = self.resource.watch(
            resource_version=self._version,
            label_selector=self._selector,
            timeout_s=self._timeout_s,
        )
        async for raw in stream:
            self._on_event(raw)

    def _on_event(self, raw: Obj) -> None:
        self._events += 1
        kind = raw.get("type")
        obj = raw.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise Expired(f"{self.resource.name}: {obj.get('message', '410 Gone')}")
            raise WatchFailed(
                f"{self.resource.name}: watch error {obj.get('code')}: {obj.get('message')}",
                reason="watch-error",
            )
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if kind == "BOOKMARK":
            self._version = version or self._version
            return
        if kind not in (ADDED, MODIFIED, DELETED):
            raise WatchFailed(f"{self.resource.name}: unknown event {kind!r}", reason="decode")
        key = object_key(obj)
        if kind == DELETED:
            self.cache.pop(key, None)
        else:
            self.cache[key] = obj
        self._version = version or self._version
        self._backoff.reset()
        self._emit(WatchEvent(kind, obj))

    def _replace(self, items: list[Obj]) -> None:
        """Make the cache hold ``items``; report the difference."""
        fresh = {object_key(item): item for item in items}
        old = self.cache
        self.cache = fresh
        for key, obj in old.items():
            if key not in fresh:
                self._emit(WatchEvent(DELETED, obj))
        for key, obj in fresh.items():
            previous = old.get(key)
            if previous is None:
                self._emit(WatchEvent(ADDED, obj))
            elif _version_of(previous) != _version_of(obj):
                self._emit(WatchEvent(MODIFIED, obj))

    def _emit(self, event: WatchEvent) -> None:
        self._metrics.events.labels(self.resource.name, event.type).inc()
        self._handler(event)


def _version_of(obj: Obj) -> str | None:
    version = (obj.get("metadata") or {}).get("resourceVersion")
    return str(version) if version is not None else None
