"""One supervised task per owned endpoint, shared by the scrape loops and the KV followers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Generic, Protocol, TypeVar

import structlog

from gie.events import Endpoint
from gie.lifecycle import cancel_and_wait

__all__ = ["EndpointTasks", "Worker"]

_log = structlog.get_logger("gie.metrics_collector")


class Worker(Protocol):
    def run(self) -> Coroutine[Any, Any, None]: ...


W = TypeVar("W", bound=Worker)


class EndpointTasks(Generic[W]):
    """Runs one worker per wanted endpoint; :meth:`sync` makes the set match.

    A worker whose task dies of an unexpected error (a bug, not a failed scrape or a
    lost socket, which workers handle themselves) is logged with its traceback, reported
    to ``on_crash`` and restarted ``restart_s`` later if still wanted. ``replace`` says
    whether a kept worker no longer fits its endpoint (it is then restarted at once);
    ``keep`` updates one that does. One event loop; not thread-safe.
    """

    def __init__(
        self,
        *,
        kind: str,
        build: Callable[[Endpoint], W],
        replace: Callable[[W, Endpoint], bool] = lambda _worker, _endpoint: False,
        keep: Callable[[W, Endpoint], None] = lambda _worker, _endpoint: None,
        on_stopped: Callable[[str], None] = lambda _address: None,
        on_crash: Callable[[], None] = lambda: None,
        restart_s: float = 1.0,
    ) -> None:
        self._kind = kind
        self._build, self._replace, self._keep = build, replace, keep
        self._on_stopped, self._on_crash = on_stopped, on_crash
        self._restart_s = restart_s
        self._stopping: set[asyncio.Task[None]] = set()
        self._workers: dict[str, W] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wanted: dict[str, Endpoint] = {}

    @property
    def addresses(self) -> list[str]:
        return sorted(self._tasks)

    def get(self, address: str) -> W | None:
        return self._workers.get(address)

    def items(self) -> list[tuple[str, W]]:
        return sorted(self._workers.items())

    def sync(self, wanted: Mapping[str, Endpoint]) -> None:
        """Run exactly ``wanted`` (address -> endpoint) from now on."""
        self._wanted = dict(wanted)
        for address in [a for a in self._tasks if a not in wanted]:
            self._stop(address)
        for address, endpoint in wanted.items():
            worker = self._workers.get(address)
            if worker is not None and self._replace(worker, endpoint):
                self._stop(address)
            elif worker is not None:
                self._keep(worker, endpoint)
            if address not in self._tasks:
                self._start(endpoint)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._wanted.clear()
        for address in list(self._tasks):
            self._stop(address)
        await cancel_and_wait([*tasks, *self._stopping])

    def _start(self, endpoint: Endpoint) -> None:
        worker = self._build(endpoint)
        task = asyncio.create_task(worker.run(), name=f"{self._kind} {endpoint.address}")
        task.add_done_callback(self._ended)
        self._workers[endpoint.address] = worker
        self._tasks[endpoint.address] = task

    def _stop(self, address: str) -> None:
        task = self._tasks.pop(address)
        task.cancel()
        # Cancelled again until it ends (its client calls await under wait_for, which
        # can swallow a cancellation on Python 3.11 and leave it running unowned).
        stopping = asyncio.create_task(cancel_and_wait([task]), name=f"stopping {address}")
        self._stopping.add(stopping)
        stopping.add_done_callback(self._stopping.discard)
        self._workers.pop(address, None)
        self._on_stopped(address)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        address = next((a for a, t in self._tasks.items() if t is task), None)
        if address is None:
            return
        self._tasks.pop(address)
        self._workers.pop(address, None)
        self._on_crash()
        _log.error(
            f"{self._kind} task crashed; restarting", endpoint=address, exc_info=task.exception()
        )
        asyncio.get_running_loop().call_later(self._restart_s, self._restart, address)

    def _restart(self, address: str) -> None:
        endpoint = self._wanted.get(address)
        if endpoint is not None and address not in self._tasks:
            self._start(endpoint)
