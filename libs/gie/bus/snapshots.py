"""Snapshots of projections, kept in a JetStream object store (any size, chunked).

A snapshot lets a new replica start warm: load it, then follow the stream from
the sequence it was taken at. ``MemorySnapshotStore`` is the fake for unit
tests. Names are free-form; callers escape pool keys.
"""

from __future__ import annotations

from typing import Protocol

from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError, ObjectNotFoundError

from gie.bus.errors import GieBusError

SNAPSHOT_BUCKET = "GIE_SNAPSHOTS"


class SnapshotStore(Protocol):
    async def put(self, name: str, data: bytes) -> None: ...

    async def get(self, name: str) -> bytes | None:
        """The latest snapshot under ``name``, or None when there is none."""


class NatsSnapshotStore:
    def __init__(self, js: JetStreamContext, *, bucket: str = SNAPSHOT_BUCKET) -> None:
        self._js = js
        self._bucket = bucket
        self._store: object | None = None

    async def _object_store(self) -> object:
        if self._store is None:
            try:
                self._store = await self._js.object_store(self._bucket)
            except NotFoundError:
                self._store = await self._js.create_object_store(self._bucket)
        return self._store

    async def put(self, name: str, data: bytes) -> None:
        try:
            store = await self._object_store()
            await store.put(name, data)  # type: ignore[attr-defined]
        except NatsError as exc:
            raise GieBusError(f"cannot store snapshot {name}: {exc}") from exc

    async def get(self, name: str) -> bytes | None:
        try:
            store = await self._object_store()
            result = await store.get(name)  # type: ignore[attr-defined]
        except (ObjectNotFoundError, NotFoundError):
            return None
        except NatsError as exc:
            raise GieBusError(f"cannot read snapshot {name}: {exc}") from exc
        data: bytes | None = result.data
        return data


class MemorySnapshotStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    async def put(self, name: str, data: bytes) -> None:
        self.objects[name] = data

    async def get(self, name: str) -> bytes | None:
        return self.objects.get(name)
