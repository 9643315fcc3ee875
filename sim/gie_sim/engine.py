"""Async driver: runs a :class:`~gie_sim.scheduler.Scheduler` against a
:class:`~gie.clock.Clock` (its monotonic time line, and its ``sleep``).

One engine task per simulated server. It sleeps on an :class:`asyncio.Event` while the
server is idle and otherwise loops *plan step -> wait for the step's duration -> apply it*.

Simulated time (``sim_now``) is kept on the clock's monotonic time line: real with
:class:`~gie.clock.SystemClock`; with :class:`~gie.clock.ManualClock` (tests), ``sleep(d)``
moves it forward by ``d`` at once, so simulated durations are exact and nothing waits.
A step ends at ``start + duration``; the task only really sleeps when that end is at least
:data:`MIN_SLEEP_S` in the future, so with a tiny ``time_scale`` several simulated steps are
computed per real wake-up (simulated time runs slightly ahead of the clock, by less than
``MIN_SLEEP_S``) instead of spinning on sub-millisecond sleeps. If the process falls behind
(CPU starvation), simulated time catches up by running steps back to back, but never lags
the clock by more than :data:`MAX_LAG_S`. With ``time_scale == 0`` every step takes zero
time; the task still yields to the event loop every :data:`YIELD_EVERY_STEPS` steps so
handlers can stream tokens in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from gie.clock import Clock, SystemClock
from gie_sim.config import SimConfig
from gie_sim.kv_cache import hash_blocks
from gie_sim.request import SimRequest
from gie_sim.scheduler import EngineStats, Scheduler

__all__ = ["MAX_LAG_S", "MIN_SLEEP_S", "YIELD_EVERY_STEPS", "Engine", "EngineSnapshot"]

MIN_SLEEP_S = 0.001
MAX_LAG_S = 0.05
YIELD_EVERY_STEPS = 16

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineSnapshot:
    """Point-in-time view used by the metrics page."""

    num_running: int
    num_waiting: int
    kv_cache_usage: float
    stats: EngineStats


class Engine:
    """Simulated vLLM engine: submit requests, watch their tokens appear."""

    def __init__(self, config: SimConfig, clock: Clock | None = None, name: str = "") -> None:
        self.config = config
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.name = name
        self.scheduler = Scheduler(config)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sim_now = self.clock.monotonic()
        self._ids = itertools.count()

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Start the engine task on the running event loop (idempotent)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"gie-sim-engine {self.name}".strip()
            )

    async def stop(self) -> None:
        """Stop the engine task and abort every unfinished request."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.scheduler.abort_all(self.clock.monotonic())

    async def __aenter__(self) -> Engine:
        self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    # ----------------------------------------------------------------- requests
    def check(self, prompt_len: int, max_tokens: int) -> None:
        """Raise :class:`~gie_sim.scheduler.RequestRejected` for impossible requests."""
        self.scheduler.check(prompt_len, max_tokens)

    def submit(
        self, prompt_tokens: Sequence[int], max_tokens: int, request_id: str | None = None
    ) -> SimRequest:
        """Queue a request; raises :class:`~gie_sim.scheduler.RequestRejected` if impossible."""
        if max_tokens < 1:
            raise ValueError("max_tokens must be >= 1")
        if not prompt_tokens:
            raise ValueError("prompt must contain at least one token")
        self.check(len(prompt_tokens), max_tokens)
        req = SimRequest(
            request_id=request_id or f"req-{next(self._ids)}",
            prompt_len=len(prompt_tokens),
            max_tokens=max_tokens,
            arrival_time=self.clock.monotonic(),
            block_hashes=hash_blocks(prompt_tokens, self.config.block_size),
            prompt_tokens=prompt_tokens,
        )
        self.scheduler.add(req)
        self._wake.set()
        return req

    def abort(self, req: SimRequest) -> None:
        """Cancel a request (client went away); frees its KV blocks."""
        self.scheduler.abort(req, self.clock.monotonic())

    def snapshot(self) -> EngineSnapshot:
        sched = self.scheduler
        return EngineSnapshot(
            num_running=sched.num_running,
            num_waiting=sched.num_waiting,
            kv_cache_usage=sched.cache.usage,
            stats=EngineStats(**vars(sched.stats)),
        )

    # ----------------------------------------------------------------- loop
    async def _run(self) -> None:
        clock, sched = self.clock, self.scheduler
        steps_without_yield = 0
        while True:
            if not sched.has_work:
                self._wake.clear()
                await self._wake.wait()
                self._sim_now = max(self._sim_now, clock.monotonic())
                steps_without_yield = 0
                continue
            start = max(self._sim_now, clock.monotonic() - MAX_LAG_S)
            plan = sched.schedule(start)
            if plan is None:  # defensive: work exists but nothing can run yet
                self._wake.clear()
                await self._wake.wait()
                continue
            end = start + plan.duration
            self._sim_now = end
            ahead = end - clock.monotonic()
            if ahead >= MIN_SLEEP_S:
                await clock.sleep(ahead)
                steps_without_yield = 0
            else:
                steps_without_yield += 1
                if steps_without_yield >= YIELD_EVERY_STEPS:
                    steps_without_yield = 0
                    await asyncio.sleep(0)
            sched.complete(plan, end)
            sched.cache.events.flush()
            if _log.isEnabledFor(logging.DEBUG):
                _log.debug(
                    "step %s seqs=%d prefill_tokens=%d dur=%.6f running=%d waiting=%d",
                    self.name,
                    plan.num_seqs,
                    plan.prefill_tokens,
                    plan.duration,
                    sched.num_running,
                    sched.num_waiting,
                )
