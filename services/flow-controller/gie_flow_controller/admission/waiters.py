"""OutcomeWaiters: Admit calls waiting for their request's outcome.

An outcome may be decided by any replica (the shard's owner dispatches or evicts it,
another replica may displace it). Waiters learn of it from the pool's outcome notices
(pub/sub) and, since notices can be lost, by polling the outcomes of every request
still awaited every ``poll_s``. A request that was queued but that the flow state no
longer knows at all (Redis restarted without it: no AOF, or its last second unwritten)
will never get an outcome: its waiters are failed with :class:`RequestLostError`.
All methods run on the service's event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from gie_flow_controller.errors import RequestLostError, StoreError
from gie_flow_controller.model import Finished
from gie_flow_controller.state import FlowStore

_log = structlog.get_logger("gie.flow_controller.waiters")


def _ignore() -> None:
    pass


class OutcomeWaiters:
    """``on_lost()`` is called once per request found lost."""

    def __init__(
        self, store: FlowStore, *, poll_s: float = 0.5, on_lost: Callable[[], None] = _ignore
    ) -> None:
        self._store = store
        self._poll_s = poll_s
        self._on_lost = on_lost
        self._waiting: dict[str, list[asyncio.Future[Finished]]] = {}
        self._queued: set[str] = set()  # awaited ids the flow state has (or had) queued

    def __len__(self) -> int:
        return len(self._waiting)

    def expect(self, request_id: str) -> asyncio.Future[Finished]:
        """A future resolved with the request's outcome. Register before admitting, so
        an outcome decided at once is not missed."""
        future: asyncio.Future[Finished] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(request_id, []).append(future)
        return future

    def queued(self, request_id: str) -> None:
        """The flow state holds the awaited request (queued, or finished meanwhile): from
        now on its disappearance means it was lost."""
        if request_id in self._waiting:
            self._queued.add(request_id)

    def forget(self, request_id: str, future: asyncio.Future[Finished]) -> None:
        futures = self._waiting.get(request_id, [])
        if future in futures:
            futures.remove(future)
        if not futures:
            self._waiting.pop(request_id, None)
            self._queued.discard(request_id)

    def deliver(self, done: Finished) -> None:
        """An outcome notice (any replica's); resolves every waiter of that request."""
        self._queued.discard(done.request_id)
        for future in self._waiting.pop(done.request_id, []):
            if not future.done():
                future.set_result(done)

    def _fail(self, request_id: str, error: Exception) -> None:
        self._queued.discard(request_id)
        for future in self._waiting.pop(request_id, []):
            if not future.done():
                future.set_exception(error)

    def fail_all(self, error: Exception) -> None:
        """Wake every waiter with ``error`` (the replica is draining)."""
        waiting, self._waiting = self._waiting, {}
        self._queued.clear()
        for futures in waiting.values():
            for future in futures:
                if not future.done():
                    future.set_exception(error)

    async def poll_forever(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self._poll_s)
            if not self._waiting:
                continue
            try:
                await self.poll_once()
            except StoreError as exc:
                if not failing:
                    _log.warning("polling outcomes failed", error=str(exc))
                failing = True
                continue
            failing = False

    async def poll_once(self) -> None:
        """Deliver the outcomes found; fail the waiters of requests found lost."""
        found = await self._store.outcomes(list(self._waiting))
        for done in found.values():
            self.deliver(done)
        suspects = [rid for rid in self._queued if rid in self._waiting]
        for rid in await self._store.unknown(suspects) if suspects else set():
            if rid not in self._queued:
                continue  # answered while the store was asked
            _log.warning("queued request lost from the flow state", request_id=rid)
            self._on_lost()
            self._fail(
                rid,
                RequestLostError(
                    f"the flow state lost request {rid} (Redis restarted without it); "
                    "it will not be dispatched: send it again"
                ),
            )
