"""The load generator: its own process, so it never shares a GIL with a server or the harness.

Run as a program, by path (``python loadgen.py --url URL [--header 'name: value']``): it
imports only aiohttp, nothing of the harness. It talks to the harness over stdin/stdout,
one JSON object a line. The harness writes a phase: ``{"requests": N, "concurrency": C}``
sends N ``POST``s of the same small completion request with C in flight (closed loop);
``{"requests": N, "rate": R}`` starts one every 1/R seconds whatever is in flight (open
loop). Keep-alive connections are reused from phase to phase. The answer is the phase's
result: status counts, latency percentiles of the 200s (ms), wall time and the
generator's own CPU time. EOF on stdin ends it.

One asyncio loop; stdin is read in a worker thread so the loop never blocks on it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections import Counter
from typing import Any

import aiohttp

BODY = json.dumps({"model": "m", "prompt": "hello", "max_tokens": 1}).encode()
REQUEST_TIMEOUT_S = 30.0


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 when there are none)."""
    if not ordered:
        return 0.0
    rank = min(len(ordered), max(1, math.ceil(q * len(ordered))))
    return ordered[rank - 1]


async def _one(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str]
) -> tuple[float, str]:
    started = time.perf_counter()
    try:
        async with session.post(url, data=BODY, headers=headers) as response:
            await response.read()
            status = str(response.status)
    except (aiohttp.ClientError, TimeoutError) as exc:
        status = type(exc).__name__
    return time.perf_counter() - started, status


class _Recorder:
    """Latencies of the 200s and the count of every outcome, for one phase."""

    def __init__(self, session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> None:
        self._session, self._url, self._headers = session, url, headers
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()

    async def send(self) -> None:
        latency, status = await _one(self._session, self._url, self._headers)
        self.statuses[status] += 1
        if status == "200":
            self.latencies.append(latency)

    def result(self, *, requests: int, duration_s: float, cpu_s: float) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "requests": requests,
            "ok": len(ordered),
            "statuses": dict(self.statuses),
            "duration_s": duration_s,
            "p50_ms": percentile(ordered, 0.50) * 1000,
            "p90_ms": percentile(ordered, 0.90) * 1000,
            "p99_ms": percentile(ordered, 0.99) * 1000,
            "mean_ms": sum(ordered) * 1000 / len(ordered) if ordered else 0.0,
            "max_ms": ordered[-1] * 1000 if ordered else 0.0,
            "client_cpu_s": cpu_s,
        }


async def _closed_loop(recorder: _Recorder, *, requests: int, concurrency: int) -> None:
    remaining = requests

    async def sender() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await recorder.send()

    async with asyncio.TaskGroup() as group:
        for _ in range(max(1, min(concurrency, requests))):
            group.create_task(sender())


async def _paced(recorder: _Recorder, *, requests: int, rate: float) -> None:
    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for index in range(requests):
            delay = started + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            group.create_task(recorder.send())


async def run_phase(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    *,
    requests: int,
    concurrency: int = 0,
    rate: float = 0.0,
) -> dict[str, Any]:
    """Send ``requests`` requests: at ``rate`` per second (open loop) when given, else
    ``concurrency`` at a time (closed loop); return the result object."""
    recorder = _Recorder(session, url, headers)
    cpu_before, started = time.process_time(), time.perf_counter()
    if rate > 0:
        await _paced(recorder, requests=requests, rate=rate)
    else:
        await _closed_loop(recorder, requests=requests, concurrency=concurrency)
    return recorder.result(
        requests=requests,
        duration_s=time.perf_counter() - started,
        cpu_s=time.process_time() - cpu_before,
    )


async def _serve(url: str, headers: dict[str, str]) -> None:
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            phase = json.loads(line)
            result = await run_phase(
                session,
                url,
                headers,
                requests=int(phase["requests"]),
                concurrency=int(phase.get("concurrency", 0)),
                rate=float(phase.get("rate", 0.0)),
            )
            print(json.dumps(result), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Closed-loop completion load, phase by phase.")
    parser.add_argument("--url", required=True, help="http://127.0.0.1:<port>/v1/completions")
    parser.add_argument(
        "--header", action="append", default=[], help="extra request header, 'name: value'"
    )
    args = parser.parse_args(argv)
    headers = {"content-type": "application/json"}
    for header in args.header:
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    asyncio.run(_serve(args.url, headers))


if __name__ == "__main__":
    main()
