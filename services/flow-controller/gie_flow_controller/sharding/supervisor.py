"""ShardSupervisor: claims, renews and releases this replica's share of the shards.

Every ``renew_s`` it heartbeats the replica's membership, renews the leases it holds
(a lease it could not renew is lost: its worker is stopped), and balances: it keeps at
most ``ceil(shards / live replicas)`` shards, releasing extras and claiming free ones.
A replica that dies stops renewing; its leases expire after ``lease_s`` and the others
claim its shards, whose queued requests are in Redis and so are served on. Runs as one
task; ``wake`` and ``wake_for_capacity`` may be called from any task of the loop.

Each worker runs :class:`Supervised`: a worker that fails (anything but a lost lease,
which ends it) is logged, counted (``on_restart("shard-worker")``) and started again
with backoff; ``problem`` names it meanwhile, for the readiness probe.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable

import structlog

from gie.clock import Clock
from gie.lifecycle import cancel_and_wait
from gie_flow_controller.errors import StoreError
from gie_flow_controller.sharding.worker import ShardWorker
from gie_flow_controller.state import FlowStore
from gie_flow_controller.tasks import Supervised

_log = structlog.get_logger("gie.flow_controller.supervisor")


def _ignore(task: str) -> None:
    pass


class ShardSupervisor:
    def __init__(
        self,
        *,
        store: FlowStore,
        shards: int,
        owner: str,
        make_worker: Callable[[int], ShardWorker],
        clock: Clock,
        lease_s: float = 3.0,
        on_restart: Callable[[str], None] = _ignore,
    ) -> None:
        self._store = store
        self._shards = shards
        self._owner = owner
        self._make_worker = make_worker
        self._clock = clock
        self._lease_ms = round(lease_s * 1000)
        self.renew_s = lease_s / 3
        self._on_restart = on_restart
        self._workers: dict[int, tuple[ShardWorker, asyncio.Task[None]]] = {}
        self._supervised: dict[int, Supervised] = {}
        self._log = _log.bind(replica=owner)

    @property
    def owned(self) -> list[int]:
        return sorted(self._workers)

    @property
    def problem(self) -> str | None:
        """Why a shard worker is down (waiting to be started again), else None."""
        down = [
            f"shard {shard}: {supervised.problem}"
            for shard, supervised in sorted(self._supervised.items())
            if supervised.problem is not None
        ]
        return "; ".join(down) or None

    def wake(self, shard: int) -> None:
        held = self._workers.get(shard)
        if held is not None:
            held[0].wake()

    def wake_for_capacity(self) -> None:
        """Capacity may have appeared: wake the workers with waiting requests."""
        for worker, _ in self._workers.values():
            worker.wake_for_capacity()

    async def run(self) -> None:
        while True:
            try:
                await self.reconcile()
            except StoreError as exc:
                self._log.warning("shard reconcile failed", error=str(exc))
            await asyncio.sleep(self.renew_s)

    async def reconcile(self) -> None:
        now = self._clock.now_ms()
        live = await self._store.heartbeat(self._owner, ttl_ms=self._lease_ms, now_ms=now)
        for shard in self.owned:
            _, task = self._workers[shard]
            renewed = not task.done() and await self._store.renew(
                shard, self._owner, ttl_ms=self._lease_ms, now_ms=now
            )
            if not renewed:
                self._log.warning("shard lost", shard=shard)
                await self._stop_worker(shard)
        target = math.ceil(self._shards / max(live, 1))
        for shard in self.owned[target:]:
            await self._stop_worker(shard)
            await self._store.release(shard, self._owner)
            self._log.info("shard released to balance", shard=shard, target=target)
        start = sum(self._owner.encode()) % self._shards
        for step in range(self._shards):
            if len(self._workers) >= target:
                break
            shard = (start + step) % self._shards
            if shard in self._workers:
                continue
            if await self._store.claim(shard, self._owner, ttl_ms=self._lease_ms, now_ms=now):
                self._start_worker(shard)

    def _start_worker(self, shard: int) -> None:
        worker = self._make_worker(shard)
        supervised = Supervised(
            f"shard-{shard}",
            worker.run,
            on_restart=lambda _: self._on_restart("shard-worker"),
            done_on_return=True,  # the lease was lost
        )
        task = asyncio.create_task(supervised.run(), name=f"shard-{shard}")
        self._workers[shard] = (worker, task)
        self._supervised[shard] = supervised
        self._log.info("shard claimed", shard=shard)

    async def _stop_worker(self, shard: int) -> None:
        _, task = self._workers.pop(shard)
        self._supervised.pop(shard, None)
        await cancel_and_wait([task])

    async def stop(self, *, release: bool = True) -> None:
        """Stop every worker; with ``release`` hand the leases back at once (a clean
        shutdown), so other replicas take the shards over without waiting."""
        for shard in self.owned:
            await self._stop_worker(shard)
            if release:
                with contextlib.suppress(StoreError):
                    await self._store.release(shard, self._owner)
        self._log.info("shards released" if release else "shard workers stopped")
