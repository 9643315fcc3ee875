"""Drive a workload against one router: open-loop Poisson arrivals or fixed concurrency.

* **Rate** (open loop): request ``i`` is due at its Poisson offset and is sent then,
  whether or not earlier requests have finished, except that a request with ``after``
  first waits for that request to finish (a chat turn follows the previous turn).
* **Concurrency** (closed loop): ``n`` workers each send the next request as soon as
  their previous one finished.

Bounded in count (the workload) and in time: once every request is due, the load waits
at most ``drain_timeout_s`` for the stragglers, then cancels them; they count as failed
(``error = "unfinished ..."``). Every request also has its own ``request_timeout_s``.
One asyncio task per in-flight request, one aiohttp session (no proxies, loopback only).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

from bench.loadgen.arrivals import poisson_offsets
from bench.loadgen.client import RequestResult, send_streaming
from bench.workloads import BenchRequest

__all__ = ["Load", "drive"]


@dataclass(frozen=True, kw_only=True)
class Load:
    """How hard to push: exactly one of ``rate`` (requests/s) or ``concurrency``."""

    rate: float | None = None
    concurrency: int | None = None

    def __post_init__(self) -> None:
        if (self.rate is None) == (self.concurrency is None):
            raise ValueError("give exactly one of rate or concurrency")

    @property
    def label(self) -> str:
        return (
            f"{self.rate:g} req/s" if self.rate is not None else f"concurrency {self.concurrency}"
        )

    @property
    def value(self) -> float:
        return float(self.rate if self.rate is not None else self.concurrency or 0)


class _Run:
    """Shared state of one load: the clock origin, results, per-request completion."""

    def __init__(self, session: aiohttp.ClientSession, url: str, n: int) -> None:
        self.session = session
        self.url = url
        self.origin = time.perf_counter()
        self.done = [asyncio.Event() for _ in range(n)]
        self.finished_at = [0.0] * n
        self.results: dict[int, RequestResult] = {}
        self.sent_at: dict[int, float] = {}
        self.tasks: list[asyncio.Task[None]] = []

    def now(self) -> float:
        return time.perf_counter() - self.origin

    async def send(self, request: BenchRequest, due: float) -> None:
        try:
            if request.after is not None:
                await self.done[request.after].wait()
                due = max(due, self.finished_at[request.after])
            if (delay := due - self.now()) > 0:
                await asyncio.sleep(delay)
            self.sent_at[request.index] = self.now()
            self.results[request.index] = await send_streaming(
                self.session, self.url, request, origin=self.origin, due=due
            )
        finally:
            self.finished_at[request.index] = self.now()
            self.done[request.index].set()

    def unfinished(self, request: BenchRequest, reason: str) -> RequestResult:
        sent = self.sent_at.get(request.index)
        return RequestResult(
            index=request.index,
            group=request.group,
            status=None,
            served_by=None,
            sent_at=sent if sent is not None else self.now(),
            lateness_s=0.0,
            ttft_s=None,
            latency_s=self.now() - sent if sent is not None else 0.0,
            error=reason,
        )


async def _open_loop(run: _Run, requests: Sequence[BenchRequest], rate: float, seed: int) -> None:
    """Start one task per request at its due time; return once the last one is started."""
    offsets = poisson_offsets(len(requests), rate=rate, seed=seed)
    for request, due in zip(requests, offsets, strict=True):
        if (delay := due - run.now()) > 0:
            await asyncio.sleep(delay)
        run.tasks.append(asyncio.create_task(run.send(request, due)))


async def _closed_loop(run: _Run, requests: Sequence[BenchRequest], concurrency: int) -> None:
    """``concurrency`` workers, each sending the next request when its last one finished."""
    queue = list(reversed(requests))

    async def worker() -> None:
        while queue:
            request = queue.pop()
            await run.send(request, run.now())

    run.tasks.extend(asyncio.create_task(worker()) for _ in range(concurrency))
    await asyncio.gather(*run.tasks)


async def drive(
    base_url: str,
    requests: Sequence[BenchRequest],
    load: Load,
    *,
    seed: int = 0,
    request_timeout_s: float = 300.0,
    drain_timeout_s: float = 60.0,
) -> list[RequestResult]:
    """Send every request to ``base_url`` under ``load``; one result per request, in order."""
    timeout = aiohttp.ClientTimeout(total=request_timeout_s)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        run = _Run(session, base_url.rstrip("/"), len(requests))
        try:
            if load.rate is not None:
                await _open_loop(run, requests, load.rate, seed)
                waits = [run.done[r.index].wait() for r in requests]
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(drain_timeout_s):
                        await asyncio.gather(*waits)
            else:
                await _closed_loop(run, requests, load.concurrency or 1)
        finally:
            for task in run.tasks:
                task.cancel()
            await asyncio.gather(*run.tasks, return_exceptions=True)
    reason = f"unfinished {drain_timeout_s:g}s after the last request was due"
    return [run.results.get(r.index) or run.unfinished(r, reason) for r in requests]
