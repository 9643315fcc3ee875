"""One measurement window over a running stack."""

from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.collector_scale.lag_probe import LagProbe
from bench.collector_scale.procstat import cpu_seconds
from bench.collector_scale.stack import Stack
from gie.bus import STATE, Deliver, NatsEventBus
from gie.events.subjects import pool_filter

__all__ = ["WindowResult", "measure_window"]


@dataclass
class WindowResult:
    seconds: float
    endpoints: int
    scrapes_per_s: float
    collector_cores: float
    cores_per_1000_scrapes_per_s: float
    cpu_us_per_scrape: float
    events_per_s: float
    other_cores: dict[str, float]
    lag_ms: dict[str, float]
    scrape_ms: dict[str, float]
    lost_probes: int
    scrape_errors: dict[str, float]
    published: dict[str, float]


async def _collector_counters(http: httpx.AsyncClient, port: int) -> dict[str, dict[str, float]]:
    """Counters by name and first label value; histogram buckets under ``<name>_bucket``."""
    text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    counters: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith(("_total", "_bucket")):
                label = next(iter(sample.labels.values()), "")
                counters.setdefault(sample.name, {})[label] = sample.value
    return counters


def _bucket_quantile(buckets: dict[str, float], q: float) -> float:
    """Upper bound (ms) of the histogram bucket holding the ``q`` quantile."""
    bounds = sorted((float(le), count) for le, count in buckets.items())
    total = bounds[-1][1] if bounds else 0.0
    for bound, count in bounds:
        if total and count >= q * total:
            return bound * 1000
    return float("nan")


def _delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v - before.get(k, 0.0) > 0}


async def measure_window(
    stack: Stack, *, seconds: float, warmup_s: float, probes_per_s: float
) -> WindowResult:
    probe = LagProbe(stack.pool)
    rng = random.Random(42)
    async with (
        NatsEventBus(stack.nats_url, name="bench-observer") as bus,
        httpx.AsyncClient(timeout=5) as http,
    ):
        await bus.follow(
            STATE, pool_filter(stack.pool), probe.on_event, deliver=Deliver.LAST_PER_SUBJECT
        )
        deadline = time.monotonic() + 60
        while len([s for s in probe.view.endpoints() if s.metrics]) < len(stack.addresses):
            if time.monotonic() > deadline:
                raise RuntimeError("not every endpoint got metrics within 60s")
            await asyncio.sleep(0.2)
        await asyncio.sleep(warmup_s)

        before = await _collector_counters(http, stack.collector_port)
        cpu_before = {name: cpu_seconds(pid) for name, pid in stack.pids.items()}
        bench_before = cpu_seconds(os.getpid())
        events_before, started = probe.events, time.monotonic()
        next_probe = started
        while (now := time.monotonic()) < started + seconds:
            if now >= next_probe:
                await probe.probe(http, stack.addresses, rng)
                next_probe += 1.0 / probes_per_s
            await asyncio.sleep(max(0.0, min(next_probe, started + seconds) - time.monotonic()))
        elapsed = time.monotonic() - started
        cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in stack.pids.items()}
        cpu["observer"] = cpu_seconds(os.getpid()) - bench_before
        events = probe.events - events_before
        after = await _collector_counters(http, stack.collector_port)
        for _ in range(40):  # let the last probes land
            if not probe.in_flight:
                break
            await asyncio.sleep(0.05)

    scrapes = sum(
        _delta(after["gie_collector_scrapes_total"], before["gie_collector_scrapes_total"]).values()
    )
    scrapes_per_s = scrapes / elapsed
    bucket = "gie_collector_scrape_duration_seconds_bucket"
    durations = _delta(after.get(bucket, {}), before.get(bucket, {}))
    cores = cpu["collector"] / elapsed
    others: dict[str, Any] = {"nats": cpu["nats"] / elapsed}
    others["observer (this process)"] = cpu["observer"] / elapsed
    others["simulators"] = sum(v for k, v in cpu.items() if k.startswith("sims")) / elapsed
    return WindowResult(
        seconds=elapsed,
        endpoints=len(stack.addresses),
        scrapes_per_s=scrapes_per_s,
        collector_cores=cores,
        cores_per_1000_scrapes_per_s=cores / (scrapes_per_s / 1000) if scrapes_per_s else 0.0,
        cpu_us_per_scrape=cpu["collector"] / scrapes * 1e6 if scrapes else 0.0,
        events_per_s=events / elapsed,
        other_cores=others,
        lag_ms=probe.summary_ms(),
        scrape_ms={f"p{q}_at_most": _bucket_quantile(durations, q / 100) for q in (50, 90, 99)},
        lost_probes=probe.in_flight,
        scrape_errors=_delta(
            after.get("gie_collector_scrape_errors_total", {}),
            before.get("gie_collector_scrape_errors_total", {}),
        ),
        published=_delta(
            after.get("gie_collector_events_published_total", {}),
            before.get("gie_collector_events_published_total", {}),
        ),
    )
