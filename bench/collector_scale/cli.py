"""``python -m bench.collector_scale``: run the benchmark, print the numbers."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from bench.collector_scale.measure import WindowResult, measure_window
from bench.collector_scale.parser_speed import parser_speeds
from bench.collector_scale.stack import scale_stack

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.collector_scale",
        description="Collector CPU per 1,000 scrapes/s and metric-change lag to a picker's view.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--endpoints", type=int, default=200, help="Simulated endpoints.")
    parser.add_argument("--interval", type=float, default=0.05, help="Scrape interval (s).")
    parser.add_argument("--seconds", type=float, default=30.0, help="Measurement window (s).")
    parser.add_argument("--warmup", type=float, default=5.0, help="Warm-up before it (s).")
    parser.add_argument("--probes-per-s", type=float, default=10.0, help="Metric changes per s.")
    parser.add_argument("--sim-procs", type=int, default=2, help="Simulator processes.")
    parser.add_argument("--skip-parser", action="store_true", help="No parser comparison.")
    parser.add_argument("--skip-scale", action="store_true", help="No scale run.")
    parser.add_argument("--json", type=Path, default=None, help="Also write results here.")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="Keep logs here (default: a temporary dir)."
    )
    return parser


def _print_parser(rows: list[dict[str, float | str]]) -> None:
    print("\nParser: microseconds per page (lower is better)")
    print(
        f"{'page':<20} {'bytes':>7} {'prom-client':>12} {'gie cold':>9} {'gie chg':>8} "
        f"{'gie same':>9} {'speed-up':>9}"
    )
    for row in rows:
        speedup = float(row["prometheus_client_us"]) / float(row["gie_changing_us"])
        print(
            f"{row['page']!s:<20} {row['bytes']:>7} {row['prometheus_client_us']:>12.1f} "
            f"{row['gie_cold_us']:>9.1f} {row['gie_changing_us']:>8.1f} "
            f"{row['gie_unchanged_us']:>9.2f} {speedup:>8.0f}x"
        )


def _print_scale(result: WindowResult, interval: float) -> None:
    lag = result.lag_ms
    print(
        f"\nScale: {result.endpoints} endpoints every {interval * 1000:.0f} ms, "
        f"{result.seconds:.1f} s window"
    )
    print(f"  scrapes/s                         {result.scrapes_per_s:10.0f}")
    print(f"  collector CPU (cores)             {result.collector_cores:10.3f}")
    print(
        f"  collector CPU per 1,000 scrapes/s {result.cores_per_1000_scrapes_per_s:10.3f} cores"
        f"  ({result.cpu_us_per_scrape:.0f} us CPU per scrape)"
    )
    print(
        f"  EndpointMetricsObserved events/s  {result.events_per_s:10.0f}"
        f"  (published by reason: {result.published})"
    )
    print(f"  scrape errors                     {result.scrape_errors or 'none'}")
    scrape = result.scrape_ms
    print(
        f"  scrape duration (ms, bucket bound) p50 <= {scrape['p50_at_most']:g}  "
        f"p90 <= {scrape['p90_at_most']:g}  p99 <= {scrape['p99_at_most']:g}"
    )
    print(
        "  other processes (cores)           "
        + ", ".join(f"{k} {v:.2f}" for k, v in result.other_cores.items())
    )
    print(
        f"  lag change->view (ms)             p50 {lag['p50']:.1f}  p90 {lag['p90']:.1f}  "
        f"p99 {lag['p99']:.1f}  max {lag['max']:.1f}  ({lag['samples']:.0f} samples, "
        f"{result.lost_probes} lost)"
    )
    print(
        f"    of which scrape start -> view    p50 {lag['delivery_p50']:.1f}  "
        f"p99 {lag['delivery_p99']:.1f}  (the rest is waiting for the next scrape)"
    )
    target = interval * 1000 + 100
    verdict = "meets" if lag["p99"] <= target else "MISSES"
    print(f"  target lag p99 <= interval + 100 ms = {target:.0f} ms: {verdict}")


async def _scale(args: argparse.Namespace, workdir: Path) -> WindowResult:
    env = {
        "GIE_SCRAPE_INTERVAL_S": str(args.interval),
        "GIE_MEMBERSHIP_BUCKET": "bench-collector-scale",
    }
    async with scale_stack(
        endpoints=args.endpoints, sim_procs=args.sim_procs, workdir=workdir, collector_env=env
    ) as stack:
        return await measure_window(
            stack, seconds=args.seconds, warmup_s=args.warmup, probes_per_s=args.probes_per_s
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    print(f"machine: {os.cpu_count()} CPUs, load average before: {os.getloadavg()[0]:.2f}")
    results: dict[str, object] = {}
    if not args.skip_parser:
        rows = parser_speeds()
        results["parser"] = rows
        _print_parser(rows)
    if not args.skip_scale:
        with tempfile.TemporaryDirectory(prefix="gie-collector-scale-") as temporary:
            scale = asyncio.run(_scale(args, args.workdir or Path(temporary)))
        results["scale"] = asdict(scale)
        _print_scale(scale, args.interval)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0
