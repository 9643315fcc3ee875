"""ShardWorker: the dispatch loop of one shard this replica owns.

One task per owned shard. Each pass it evicts expired requests (every sweep interval),
then dispatches while it can: read the shard's snapshot, let the policies choose, ask
the gate for the room the chosen request's endpoints show (none: head-of-line wait),
dispatch it through the fenced Lua step, which also checks that room pool-wide. It
wakes on new work (``wake``), on capacity changes, and on a short tick. It ends when
the lease is lost (the supervisor notices).
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from gie.clock import Clock
from gie_flow_controller.errors import LeaseLostError, StoreError
from gie_flow_controller.gate import Gate
from gie_flow_controller.model import BandTable, DispatchStatus
from gie_flow_controller.policies import PolicySet, choose
from gie_flow_controller.state import FlowStore
from gie_flow_controller.telemetry import FlowEvents

_log = structlog.get_logger("gie.flow_controller.worker")


class ShardWorker:
    """Dispatches the requests queued on ``shard`` while this replica owns it."""

    def __init__(
        self,
        shard: int,
        *,
        owner: str,
        store: FlowStore,
        bands: BandTable,
        policies: PolicySet,
        gate: Gate,
        events: FlowEvents,
        clock: Clock,
        tick_s: float = 0.05,
        sweep_s: float = 0.25,
        batch: int = 32,
    ) -> None:
        self.shard = shard
        self._owner = owner
        self._store = store
        self._bands = bands
        self._policies = policies
        self._gate = gate
        self._events = events
        self._clock = clock
        self._tick_s = tick_s
        self._sweep_s = sweep_s
        self._batch = batch
        self._wake = asyncio.Event()
        self._next_sweep = 0.0
        self.backlogged = True  # until a pass finds the shard empty

    def wake(self) -> None:
        """Run a pass soon (new work arrived). Any task of the loop."""
        self._wake.set()

    def wake_for_capacity(self) -> None:
        """Capacity may have appeared: run a pass soon if requests are waiting."""
        if self.backlogged:
            self._wake.set()

    async def run(self) -> None:
        """Work until cancelled; return when the shard's lease is lost."""
        log = _log.bind(shard=self.shard)
        log.info("shard worker started")
        failing = False
        while True:
            # An empty shard only needs its sweep and a safety net for lost wake notices.
            tick = self._tick_s if self.backlogged else self._tick_s * 10
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
            # that arrives as the event is set, and the worker would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(tick):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.pass_once()
            except LeaseLostError:
                log.warning("shard lease lost; worker stops")
                return
            except StoreError as exc:
                if not failing:
                    log.warning("shard pass failed; retrying", error=str(exc))
                failing = True
                await asyncio.sleep(self._tick_s * 4)
                continue
            if failing:
                log.info("shard pass succeeded again")
                failing = False

    async def pass_once(self) -> int:
        """One pass: sweep if due, then dispatch up to ``batch`` requests. Returns how
        many were dispatched."""
        if self._clock.monotonic() >= self._next_sweep:
            for done in await self._store.expire(self.shard, now_ms=self._clock.now_ms()):
                self._events.evicted(done)
            self._next_sweep = self._clock.monotonic() + self._sweep_s
        for count in range(self._batch):
            if not await self._dispatch_one():
                return count
        self.wake()  # more may be ready: continue after the other tasks had a turn
        return self._batch

    async def _dispatch_one(self) -> bool:
        snapshot = await self._store.snapshot(self.shard, window=self._policies.window)
        self.backlogged = snapshot.band is not None
        chosen = choose(snapshot, self._policies)
        room = None if chosen is None else self._gate.room(chosen.candidates)
        if chosen is None or room is None:
            return False
        result = await self._store.dispatch(
            self.shard,
            self._owner,
            chosen.request_id,
            self._bands.weights(chosen.flow.priority),
            now_ms=self._clock.now_ms(),
            room=room,
        )
        if result.status is DispatchStatus.NOT_OWNER:
            raise LeaseLostError(f"shard {self.shard} is no longer owned by {self._owner}")
        if result.status is DispatchStatus.DISPATCHED and result.finished is not None:
            self._events.dispatched(result.finished, result.charge)
            return True
        # GONE (finished meanwhile): look again; BLOCKED (a higher band queued work
        # elsewhere since the snapshot) or NO_ROOM (dispatches since the metrics' scrape,
        # by this replica or another, used the room up): wait for new metrics.
        return result.status is DispatchStatus.GONE
