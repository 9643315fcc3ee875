"""The object store: what etcd is to the real API server.

Objects are plain JSON dicts kept per resource (``(group, plural)``) and keyed by
``(namespace, name)`` (namespace ``""`` for cluster-scoped ones), at the storage
version. Every write takes the next global resourceVersion, is appended to the
:class:`~gie_cli.kube.history.History` and published to the watches, all in one
synchronous step. Reads return copies, so callers may change what they get.

The store knows nothing of Kubernetes semantics (defaults, validation, graceful
deletion): :mod:`gie_cli.kube.registry` builds those on these primitives.

Concurrency: one event loop; no method awaits, so each write is atomic.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from gie_cli.kube.history import ADDED, DELETED, MODIFIED, Change, History
from gie_cli.kube.revisions import Revisions
from gie_cli.kube.status import expired
from gie_cli.kube.watch_hub import WatchHub

__all__ = ["ObjectKey", "ResourceKey", "Store", "object_key"]

ResourceKey = tuple[str, str]  # (group, plural)
ObjectKey = tuple[str, str]  # (namespace, name)


def object_key(obj: dict[str, Any]) -> ObjectKey:
    metadata = obj["metadata"]
    return (metadata.get("namespace", ""), metadata["name"])


class Store:
    """Objects, the resourceVersion counter, the history and the watches."""

    def __init__(
        self,
        *,
        revisions: Revisions,
        history: History,
        hub: WatchHub,
        on_write: Callable[[], None] | None = None,
    ) -> None:
        self.revisions = revisions
        self.history = history
        self.hub = hub
        self._objects: dict[ResourceKey, dict[ObjectKey, dict[str, Any]]] = {}
        self._on_write = on_write

    def get(self, key: ResourceKey, namespace: str, name: str) -> dict[str, Any] | None:
        found = self._objects.get(key, {}).get((namespace, name))
        return copy.deepcopy(found) if found is not None else None

    def items(self, key: ResourceKey, namespace: str | None = None) -> list[dict[str, Any]]:
        """Objects of a resource (of one namespace when given), ordered by key."""
        bucket = self._objects.get(key, {})
        keys = sorted(k for k in bucket if namespace is None or k[0] == namespace)
        return [copy.deepcopy(bucket[k]) for k in keys]

    def count(self, key: ResourceKey, namespace: str | None = None) -> int:
        bucket = self._objects.get(key, {})
        return sum(1 for k in bucket if namespace is None or k[0] == namespace)

    def put(self, key: ResourceKey, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or replace ``obj`` at the next resourceVersion; returns what is stored."""
        bucket = self._objects.setdefault(key, {})
        okey = object_key(obj)
        prev = bucket.get(okey)
        rv = self.revisions.next()
        stored = copy.deepcopy(obj)
        stored["metadata"]["resourceVersion"] = str(rv)
        bucket[okey] = stored
        self._record(Change(MODIFIED if prev else ADDED, key, okey[0], okey[1], rv, stored, prev))
        return copy.deepcopy(stored)

    def remove(self, key: ResourceKey, namespace: str, name: str) -> dict[str, Any] | None:
        """Delete an object at the next resourceVersion; returns its last state."""
        bucket = self._objects.get(key, {})
        prev = bucket.pop((namespace, name), None)
        if prev is None:
            return None
        rv = self.revisions.next()
        last = copy.deepcopy(prev)
        last["metadata"]["resourceVersion"] = str(rv)
        self._record(Change(DELETED, key, namespace, name, rv, last, prev))
        return copy.deepcopy(last)

    def _record(self, change: Change) -> None:
        self.history.append(change)
        self.hub.publish(change)
        if self._on_write is not None:
            self._on_write()

    def items_at(self, key: ResourceKey, namespace: str | None, rv: int) -> list[dict[str, Any]]:
        """The objects as they were at version ``rv`` (410 Expired when the history no
        longer reaches back that far): the current ones with later changes undone."""
        if rv >= self.revisions.current:
            return self.items(key, namespace)
        if not self.history.covers(rv):
            raise expired(f"too old resource version: {rv} ({self.history.oldest_servable})")
        state = {
            k: v
            for k, v in self._objects.get(key, {}).items()
            if namespace is None or k[0] == namespace
        }
        for change in self.history.newest_first_since(rv):
            if change.key != key or (namespace is not None and change.namespace != namespace):
                continue
            okey = (change.namespace, change.name)
            if change.prev is None:
                state.pop(okey, None)
            else:
                state[okey] = change.prev
        return [copy.deepcopy(state[k]) for k in sorted(state)]

    def dump(self) -> dict[str, Any]:
        """Everything a restart needs: the counter and every object."""
        return {
            "resourceVersion": self.revisions.current,
            "resources": [
                {"group": group, "resource": plural, "items": list(bucket.values())}
                for (group, plural), bucket in sorted(self._objects.items())
                if bucket
            ],
        }

    def load(self, state: dict[str, Any]) -> None:
        """Restore :meth:`dump`'s output (into an empty store, before serving)."""
        for entry in state.get("resources", []):
            bucket = self._objects.setdefault((entry["group"], entry["resource"]), {})
            for obj in entry["items"]:
                bucket[object_key(obj)] = obj
