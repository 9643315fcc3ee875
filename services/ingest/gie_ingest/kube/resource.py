"""One kind of object in one namespace, listed and watched over the API (raw JSON).

:class:`ResourceClient` is the port the watcher uses; :class:`ApiResource` is its
adapter over a kubernetes-asyncio ``ApiClient`` (its configuration and HTTP session;
objects stay plain dicts, as the API sends them). Errors are translated at this
boundary: a 410 Gone becomes :class:`Expired`, any other failure :class:`WatchFailed`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import aiohttp
import orjson
from kubernetes_asyncio import client

from gie_ingest.kube.errors import Expired, WatchFailed

Obj = dict[str, Any]


# Longest a watch may stay silent (the API server sends a BOOKMARK about every minute).
WATCH_SILENCE_S = 150.0


class ResourceClient(Protocol):
    """Lists and watches one resource. Both raise WatchFailed (Expired on 410)."""

    name: str

    async def list(self, *, label_selector: str | None) -> tuple[list[Obj], str]:
        """Every object, and the list's resourceVersion."""
        ...

    def watch(
        self, *, resource_version: str, label_selector: str | None, timeout_s: int
    ) -> AsyncIterator[Obj]:
        """Watch events (``{"type", "object"}``) after ``resource_version``, with
        bookmarks, until the server ends the stream."""
        ...


class ApiResource:
    """``path_of`` gives the collection's path, e.g. ``/api/v1/namespaces/ns/pods``,
    before each request; ``None`` when the kind is not installed, which lists as empty
    and watches as nothing, checking again every ``recheck_s``. When the path differs
    from the last list's (discovery chose another API group), a watch raises
    :class:`Expired` (``api-changed``) so the watcher relists."""

    def __init__(
        self,
        api: client.ApiClient,
        *,
        name: str,
        path_of: Callable[[], Awaitable[str | None]],
        field_selector: str | None = None,
        recheck_s: float = 30.0,
    ) -> None:
        self._api = api
        self.name = name
        self._path_of = path_of
        self._field_selector = field_selector
        self._recheck_s = recheck_s
        self._listed_path: str | None = None

    def _query(self, label_selector: str | None) -> list[tuple[str, str]]:
        query: list[tuple[str, str]] = []
        if label_selector:
            query.append(("labelSelector", label_selector))
        if self._field_selector:
            query.append(("fieldSelector", self._field_selector))
        return query

    async def _open(
        self,
        path: str,
        query: list[tuple[str, str]],
        timeout_s: float,
        *,
        read_timeout_s: float | None = None,
    ) -> Any:
        try:
            response = await self._api.call_api(
                path,
                "GET",
                query_params=query,
                header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=aiohttp.ClientTimeout(
                    total=timeout_s, sock_connect=10, sock_read=read_timeout_s
                ),
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise WatchFailed(f"{self.name}: {exc!r}", reason="connection") from exc
        if response.status == 410:
            response.release()
            raise Expired(f"{self.name}: resourceVersion expired (410 Gone)")
        if response.status != 200:
            try:
                body = (await response.read())[:300].decode(errors="replace")
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                body = f"(body unreadable: {exc!r})"
            finally:
                response.release()
            raise WatchFailed(f"{self.name}: HTTP {response.status}: {body}", reason="http")
        return response

    async def list(self, *, label_selector: str | None) -> tuple[list[Obj], str]:
        path = self._listed_path = await self._path_of()
        if path is None:
            return [], "0"
        response = await self._open(path, self._query(label_selector), 60)
        try:
            body = orjson.loads(await response.read())
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise WatchFailed(f"{self.name}: list failed: {exc!r}", reason="connection") from exc
        except orjson.JSONDecodeError as exc:
            raise WatchFailed(f"{self.name}: list is not JSON: {exc}", reason="decode") from exc
        finally:
            response.release()
        version = (
            (body.get("metadata") or {}).get("resourceVersion") if isinstance(body, dict) else None
        )
        items = body.get("items") if isinstance(body, dict) else None
        if not version or not isinstance(items, list | None):
            raise WatchFailed(
                f"{self.name}: list reply without a resourceVersion, or items not a list",
                reason="decode",
            )
        return [item for item in items or [] if isinstance(item, dict)], str(version)

    async def watch(
        self, *, resource_version: str, label_selector: str | None, timeout_s: int
    ) -> AsyncIterator[Obj]:
        query = [
            *self._query(label_selector),
            ("watch", "true"),
            ("resourceVersion", resource_version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(timeout_s)),
        ]
        path = await self._path_of()
        if path != self._listed_path:
            raise Expired(f"{self.name}: now served at {path}", reason="api-changed")
        if path is None:
            await asyncio.sleep(self._recheck_s)
            return
        # Bookmarks come about once a minute: a watch silent for much longer is on a dead
        # connection (a load balancer's failover sends no FIN), not idle.
        response = await self._open(path, query, timeout_s + 30, read_timeout_s=WATCH_SILENCE_S)
        try:
            while True:
                line = await response.content.readline()
                if not line:
                    return
                if line.strip():
                    event = orjson.loads(line)
                    if not isinstance(event, dict):
                        raise WatchFailed(
                            f"{self.name}: watch event is not an object: {line[:100]!r}",
                            reason="decode",
                        )
                    yield event
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise WatchFailed(f"{self.name}: watch broke: {exc!r}", reason="connection") from exc
        except orjson.JSONDecodeError as exc:
            raise WatchFailed(
                f"{self.name}: watch event is not JSON: {exc}", reason="decode"
            ) from exc
        finally:
            response.release()
