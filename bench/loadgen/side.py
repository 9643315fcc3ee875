"""The second client: side requests sent straight to the servers, behind the router's back.

Each side request names its server (``BenchRequest.server``, modulo the number of
servers). The side traffic is spread over the same time as the router's: at offered rate
``r`` for ``n`` router requests, ``m`` side requests arrive at ``r * m / n`` (Poisson,
split over the servers); with a concurrency ``c``, each server gets a closed loop of
``c * its share / n`` (at least 1). Bounded like :func:`~bench.loadgen.driver.drive`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

from bench.loadgen.client import RequestResult
from bench.loadgen.driver import Load, drive
from bench.workloads import BenchRequest

__all__ = ["drive_side"]


def _share(load: Load, part: int, main: int) -> Load:
    if load.rate is not None:
        return Load(rate=load.rate * part / max(main, 1))
    return Load(concurrency=max(1, round((load.concurrency or 1) * part / max(main, 1))))


async def drive_side(
    servers: Sequence[str],
    requests: Sequence[BenchRequest],
    load: Load,
    *,
    main_requests: int,
    seed: int = 0,
    request_timeout_s: float = 300.0,
    drain_timeout_s: float = 60.0,
) -> list[RequestResult]:
    """Send every side request to its server; results in no particular order."""
    if not requests or not servers:
        return []
    per_server: dict[int, list[BenchRequest]] = {}
    for request in requests:
        target = (request.server or 0) % len(servers)
        batch = per_server.setdefault(target, [])
        # The driver indexes requests 0..n-1 within one run.
        batch.append(dataclasses.replace(request, index=len(batch), after=None))
    runs = [
        drive(
            f"http://{servers[target]}",
            batch,
            _share(load, len(batch), main_requests),
            seed=seed + 1 + target,
            request_timeout_s=request_timeout_s,
            drain_timeout_s=drain_timeout_s,
        )
        for target, batch in sorted(per_server.items())
    ]
    return [result for results in await asyncio.gather(*runs) for result in results]
