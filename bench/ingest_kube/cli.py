"""``python -m bench.ingest_kube``: run the probe at each pool size, print the numbers."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from bench.ingest_kube.probe import Latencies, probe
from bench.ingest_kube.stack import ingest_stack

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingest_kube",
        description="Pod change in the Kubernetes API -> endpoint event on NATS (via ingest) "
        "and -> the picker's routing decision.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--pods", default="1,500", help="Pool sizes (comma-separated).")
    parser.add_argument("--samples", type=int, default=40, help="Samples per pool size.")
    parser.add_argument("--json", type=Path, default=None, help="Also write results here.")
    parser.add_argument("--workdir", type=Path, default=None, help="Keep logs here.")
    return parser


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[rank]


def _row(pods: int, what: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    if not ms:
        return f"| {pods} | {what} | 0 | - | - | - |"
    return (
        f"| {pods} | {what} | {len(ms)} | {statistics.median(ms):.1f} | "
        f"{percentile(ms, 0.99):.1f} | {max(ms):.1f} |"
    )


async def _run(sizes: list[int], samples: int, workdir: Path) -> dict[int, Latencies]:
    results: dict[int, Latencies] = {}
    for pods in sizes:
        async with ingest_stack(pods=pods, workdir=workdir / f"pods-{pods}") as stack:
            results[pods] = await probe(stack, pods=pods, samples=samples)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sizes = [int(part) for part in args.pods.split(",")]
    with tempfile.TemporaryDirectory(prefix="gie-bench-ingest-") as scratch:
        workdir = args.workdir or Path(scratch)
        results = asyncio.run(_run(sizes, args.samples, workdir))
    print("| pods | change -> observed | n | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for pods, latencies in results.items():
        print(_row(pods, "Ready=False -> EndpointRemoved", latencies.not_ready_to_removed))
        print(_row(pods, "Ready=True -> EndpointUpserted", latencies.ready_to_upserted))
        print(_row(pods, "Pod deleted -> EndpointRemoved", latencies.deleted_to_removed))
        print(_row(pods, "(all of the above: the API write alone)", latencies.writes))
        print(_row(pods, "(all of the above: write answered -> event)", latencies.after_write))
        print(_row(pods, "Ready=False -> picker answers 503", latencies.not_ready_to_unroutable))
        print(_row(pods, "Ready=True -> picker routes to the Pod", latencies.ready_to_routed))
        print(_row(pods, "Pod deleted -> picker answers 503", latencies.deleted_to_unroutable))
        print(_row(pods, "(routing probe: between request starts)", latencies.probe_intervals))
    if args.json:
        args.json.write_text(json.dumps({p: asdict(r) for p, r in results.items()}, indent=2))
    return 0
