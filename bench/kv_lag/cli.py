"""Run the lag benchmark and print percentiles (``--json FILE`` writes them too)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.collector_scale.lag_probe import percentile
from bench.collector_scale.procstat import cpu_seconds
from bench.kv_lag.publisher import FakeServer
from bench.local_procs import LocalProcs, local_procs
from gie.bus import KV, Deliver, NatsEventBus
from gie.events import Endpoint, EndpointUpserted, Event, KvBlocksStored
from gie.events.subjects import endpoint_subject, pool_prefix
from gie.prefix import PreciseIndex
from gie_cli.devstack.ports import free_port
from gie_metrics_collector.kv import KV_EVENTS_LABEL, KV_REPLAY_LABEL

POOL = "bench/kv-lag"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.kv_lag", description=__doc__)
    parser.add_argument("--blocks-per-s", type=int, default=10_000)
    parser.add_argument("--blocks-per-batch", type=int, default=16)
    parser.add_argument("--capacity", type=int, default=20_000, help="Blocks held at most.")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--workdir", type=Path, default=None)
    return parser


async def _run(args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    server = FakeServer(
        blocks_per_s=args.blocks_per_s,
        blocks_per_batch=args.blocks_per_batch,
        capacity=args.capacity,
    )
    try:
        async with local_procs(workdir) as procs:
            return await _measure(args, procs, server, workdir)
    finally:
        server.close()


async def _measure(
    args: argparse.Namespace, procs: LocalProcs, server: FakeServer, workdir: Path
) -> dict[str, float]:
    _nats, nats_url = await procs.start_nats(workdir / "jetstream")
    address = f"127.0.0.1:{free_port()}"  # nothing serves /metrics there: scrapes fail
    index = PreciseIndex(POOL)
    lags: list[float] = []
    measuring = False

    def fold(event: Event) -> None:
        index.apply(event)
        if measuring and isinstance(event, KvBlocksStored):
            sent = server.sent_at.get(event.seq)
            if sent is not None:
                lags.append(time.monotonic() - sent)

    async with NatsEventBus(nats_url, name="bench-kv-lag") as bus:
        await bus.ensure_streams()
        labels = {KV_EVENTS_LABEL: server.address, KV_REPLAY_LABEL: ""}
        endpoint = Endpoint(address=address, labels=labels)
        await bus.publish(
            endpoint_subject(POOL, address),
            EndpointUpserted(source="bench", pool=POOL, endpoint=endpoint),
        )
        await bus.follow(KV, f"{pool_prefix(POOL)}.kv.>", fold, deliver=Deliver.NEW)
        port = free_port()
        env = {
            **os.environ,
            "GIE_NATS_URL": nats_url,
            "GIE_POOL": POOL,
            "GIE_ADMIN_PORT": str(port),
            "GIE_INSTANCE_ID": "bench-collector",
            "GIE_LOG_LEVEL": "warning",
            "GIE_MEMBERSHIP_ENABLED": "false",
        }
        collector = procs.spawn("collector", [sys.executable, "-m", "gie_metrics_collector"], env)
        await procs.wait_http(f"http://127.0.0.1:{port}/readyz", collector, "collector", 60)
        await asyncio.sleep(0.5)  # the follower's SUB connects
        publishing = asyncio.create_task(server.run(args.warmup + args.seconds))
        await asyncio.sleep(args.warmup)
        measuring = True
        cpu0, t0 = cpu_seconds(collector.pid), time.monotonic()
        await publishing
        cpu1, t1 = cpu_seconds(collector.pid), time.monotonic()
        await asyncio.sleep(1.0)  # the last batches arrive
        state = index.get(address)
        return {
            "blocks_per_s": args.blocks_per_s,
            "blocks_per_batch": args.blocks_per_batch,
            "batches_timed": len(lags),
            "batches_sent": len(server.sent_at),
            "lag_p50_ms": percentile(lags, 50) * 1000,
            "lag_p90_ms": percentile(lags, 90) * 1000,
            "lag_p99_ms": percentile(lags, 99) * 1000,
            "lag_max_ms": max(lags) * 1000 if lags else float("nan"),
            "collector_cores": (cpu1 - cpu0) / (t1 - t0),
            "index_blocks": len(state.keys) if state else 0,
            "load_avg_1m": os.getloadavg()[0],
        }


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gie-kv-lag-"))
    try:
        result = asyncio.run(_run(args, workdir))
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    for key, value in result.items():
        print(f"{key:>18}: {value:.2f}" if isinstance(value, float) else f"{key:>18}: {value}")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    return 0
