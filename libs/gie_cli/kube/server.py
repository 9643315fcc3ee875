"""The stand-in as one object: build the parts, serve on a loopback port, stop cleanly.

:class:`KubeApiServer` owns the store (restored from the state file when one is given),
the registry, the HTTP server and background tasks: the *reaper* (finishes graceful
deletes and namespace terminations), the *saver* (writes the state file shortly
after changes) and, when enabled, the *kubelet* (:mod:`gie_cli.kube.kubelet`).
``stop()`` ends every watch, stops the HTTP server and saves once more.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import structlog
from aiohttp import web

from gie.clock import Clock, SystemClock
from gie_cli.devstack.ports import free_port
from gie_cli.kube.catalog import Catalog
from gie_cli.kube.crd_types import crd_resource_type
from gie_cli.kube.deletion import Deletions
from gie_cli.kube.history import History
from gie_cli.kube.http_app import build_app
from gie_cli.kube.kubelet import Kubelet
from gie_cli.kube.registry import Registry
from gie_cli.kube.resource_handlers import ResourceHandlers
from gie_cli.kube.resource_types import CRD_TYPE, NAMESPACE_TYPE
from gie_cli.kube.revisions import Revisions
from gie_cli.kube.state_file import load_state, save_state
from gie_cli.kube.store import Store
from gie_cli.kube.targets import Target, WriteOptions
from gie_cli.kube.watch_hub import WatchHub

__all__ = ["DEFAULT_NAMESPACES", "KubeApiServer", "ServerOptions"]

_log = structlog.get_logger("gie.kube")

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """``port`` 0: any free port. ``history``: how many changes a watch may resume across.
    ``bookmark_interval``: seconds between BOOKMARK events. ``max_watch_seconds``: the
    longest a watch stream stays open. ``save_delay``: seconds between a change and the
    state file's rewrite. ``kubelet``: run :mod:`gie_cli.kube.kubelet` (Pods naming a
    simulator run on it)."""

    host: str = "127.0.0.1"
    port: int = 0
    state_file: Path | None = None
    history: int = 1000
    bookmark_interval: float = 60.0
    max_watch_seconds: float = 1800.0
    reap_interval: float = 0.2
    save_delay: float = 0.2
    kubelet: bool = False


class KubeApiServer:
    """A Kubernetes API server stand-in on ``host:port``. Use as an async context manager
    or call :meth:`start` and :meth:`stop`; all on one event loop."""

    def __init__(self, options: ServerOptions | None = None, *, clock: Clock | None = None) -> None:
        self.options = options or ServerOptions()
        self.clock = clock or SystemClock()
        state = load_state(self.options.state_file) if self.options.state_file else None
        revisions = Revisions(int(state["resourceVersion"]) if state else 1)
        self.store = Store(
            revisions=revisions,
            history=History(self.options.history, revisions.current),
            hub=WatchHub(),
            on_write=self._changed,
        )
        self.catalog = Catalog()
        self.registry = Registry(self.store, self.catalog, self.clock)
        self.deletions = Deletions(self.registry)
        if state is not None:
            self.store.load(state)
            for crd in self.store.items(CRD_TYPE.key):
                self.catalog.add(crd_resource_type(crd))
        self._dirty = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._runner: web.AppRunner | None = None
        self.port = self.options.port

    @property
    def url(self) -> str:
        return f"http://{self.options.host}:{self.port}"

    def _changed(self) -> None:
        self._dirty.set()

    def _bootstrap(self) -> None:
        for name in DEFAULT_NAMESPACES:
            if self.store.get(NAMESPACE_TYPE.key, "", name) is None:
                target = Target(NAMESPACE_TYPE, "v1", "")
                self.registry.create(target, {"metadata": {"name": name}}, WriteOptions())

    async def start(self) -> None:
        self._bootstrap()
        handlers = ResourceHandlers(
            self.registry,
            self.deletions,
            bookmark_interval=self.options.bookmark_interval,
            max_watch_seconds=self.options.max_watch_seconds,
        )
        if self.port == 0:
            self.port = free_port(host=self.options.host)
        app = build_app(self.catalog, handlers, server_address=f"{self.options.host}:{self.port}")
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.options.host, self.port, shutdown_timeout=1.0)
        await site.start()
        self._tasks = [asyncio.create_task(self._reap()), asyncio.create_task(self._save())]
        if self.options.kubelet:
            kubelet = Kubelet(self.registry, self.clock)
            self._tasks.append(asyncio.create_task(kubelet.run()))
        _log.info("kube api stand-in serving", url=self.url)

    async def _reap(self) -> None:
        while True:
            await self.clock.sleep(self.options.reap_interval)
            self.deletions.reap()

    async def _save(self) -> None:
        if self.options.state_file is None:
            return
        while True:
            await self._dirty.wait()
            await asyncio.sleep(self.options.save_delay)
            await self.save()

    async def save(self) -> None:
        """Write the state file now (when there is one)."""
        if self.options.state_file is None:
            return
        self._dirty.clear()
        await asyncio.to_thread(save_state, self.options.state_file, self.store.dump())

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self.store.hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.save()

    async def __aenter__(self) -> KubeApiServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
