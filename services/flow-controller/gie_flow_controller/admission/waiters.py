"""OutcomeWaiters: Admit calls waiting for their request's outcome.

An outcome may be decided by any replica (the shard's owner dispatches or evicts it,
another replica may displace it). Waiters learn of it from the pool's outcome notices
(pub/sub) and, since notices can be lost, by polling the outcomes of every request
still awaited every ``poll_s``. All methods run on the service's event loop.
"""

from __future__ import annotations

import asyncio

import structlog

from gie_flow_controller.errors import StoreError
from gie_flow_controller.model import Finished
from gie_flow_controller.state import FlowStore

_log = structlog.get_logger("gie.flow_controller.waiters")


class OutcomeWaiters:
    def __init__(self, store: FlowStore, *, poll_s: float = 0.5) -> None:
        self._store = store
        self._poll_s = poll_s
        self._waiting: dict[str, list[asyncio.Future[Finished]]] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def expect(self, request_id: str) -> asyncio.Future[Finished]:
        """A future resolved with the request's outcome. Register before admitting, so
        an outcome decided at once is not missed."""
        future: asyncio.Future[Finished] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(request_id, []).append(future)
        return future

    def forget(self, request_id: str, future: asyncio.Future[Finished]) -> None:
        futures = self._waiting.get(request_id, [])
        if future in futures:
            futures.remove(future)
        if not futures:
            self._waiting.pop(request_id, None)

    def deliver(self, done: Finished) -> None:
        """An outcome notice (any replica's); resolves every waiter of that request."""
        for future in self._waiting.pop(done.request_id, []):
            if not future.done():
                future.set_result(done)

    def fail_all(self, error: Exception) -> None:
        """Wake every waiter with ``error`` (the replica is draining)."""
        waiting, self._waiting = self._waiting, {}
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
                found = await self._store.outcomes(list(self._waiting))
            except StoreError as exc:
                if not failing:
                    _log.warning("polling outcomes failed", error=str(exc))
                failing = True
                continue
            failing = False
            for done in found.values():
                self.deliver(done)
