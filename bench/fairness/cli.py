"""``python -m bench.fairness [--quick] [--json] [--results-dir DIR] [--seed N]``.

Progress goes to stderr; stdout gets a short report, or with ``--json`` one JSON
object. The full result is also written to ``DIR/results.json``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.fairness.runner import FairnessOptions, run_fairness
from bench.own_runner import run_and_report

__all__ = ["main", "run"]


def _progress(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _range(interval: list[float] | None, show: Callable[[float | None], str]) -> str:
    return "n/a" if interval is None else f"{show(interval[0])} .. {show(interval[1])}"


def _report(result: dict[str, Any]) -> str:
    targets, setup = result["targets"], result["setup"]
    p99 = result["light_ttft_p99_s"]
    served = result["served_per_s"]
    interval = result["unsaturated_cpu_overhead_ci95"]
    per_request = result["unsaturated"]["cpu_ms_per_request"]

    def mark(ok: bool) -> str:
        return "met" if ok else "NOT met"

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:+.1%}"

    return "\n".join(
        [
            f"fairness (quick={result['quick']}): {setup['picker_replicas']} picker replicas,"
            f" {setup['flow_controller_replicas']} flow-controller replicas",
            f"  Jain's index (flow control): {result['jain_index']}"
            f"  target >= 0.98: {mark(targets['jain_index_ge_0_98'])}",
            f"  light TTFT p99: {p99['flow_control']}s with, {p99['no_flow_control']}s without"
            f" (x{result['light_ttft_p99_improvement']}),"
            f" target >= 3x: {mark(targets['light_ttft_p99_3x_better'])}",
            f"  served while saturated: {served['flow_control']} req/s with,"
            f" {served['no_flow_control']} req/s without",
            f"  unsaturated CPU overhead: {pct(result['unsaturated_cpu_overhead'])}"
            f" (95% CI {_range(interval, pct)};"
            f" {per_request['flow_control']} vs {per_request['no_flow_control']} CPU-ms/request)"
            f"  target <= 5%: {mark(targets['unsaturated_overhead_le_5pct'])}",
            f"  marginal (idle CPU removed): {pct(result['unsaturated_marginal_cpu_overhead'])}"
            f" (95% CI {_range(result['unsaturated_marginal_cpu_overhead_ci95'], pct)})",
        ]
    )


def run(
    *,
    quick: bool,
    as_json: bool,
    results_dir: Path | None,
    seed: int,
    light_rate: float | None = None,
) -> int:
    """Run the scenario and print the result; exit code 0 unless it could not run."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    directory = (results_dir or Path(".gie/bench") / f"fairness-{stamp}").absolute()
    options = FairnessOptions.for_mode(quick=quick, seed=seed, work_dir=directory / "work")
    if light_rate is not None:
        options = replace(options, light_rate=light_rate)
    return run_and_report(
        run_fairness(options, progress=_progress),
        directory=directory,
        as_json=as_json,
        report=_report,
        progress=_progress,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fairness", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="Smoke run (< 2 minutes).")
    parser.add_argument("--json", action="store_true", help="Print one JSON object.")
    parser.add_argument("--results-dir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--light-rate", type=float, default=None, help="Light tenant's req/s.")
    args = parser.parse_args(argv)
    return run(
        quick=args.quick,
        as_json=args.json,
        results_dir=args.results_dir,
        seed=args.seed,
        light_rate=args.light_rate,
    )
