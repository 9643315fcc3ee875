"""``python -m bench.faults [--quick] [--json] [--only NAME,...] [--results-dir DIR]``.

Progress goes to stderr; stdout gets a table (one row per fault), or with ``--json``
one JSON object ``{"faults": {"<name>": {"sent", "failed", "failed_new",
"recovery_s", "digests_equal", ...}}, ...}``. The result is also written to
``DIR/results.json``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.faults.options import FaultsOptions
from bench.faults.runner import run_faults, selected_faults
from bench.own_runner import run_and_report

__all__ = ["main", "run"]

_COLUMNS = (
    "sent",
    "failed",
    "failed_in_flight",
    "failed_new",
    "slow",
    "recovery_s",
    "digests_equal",
    "events_lost",
)


def _progress(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def report(result: dict[str, Any]) -> str:
    """The faults as a markdown table."""
    lines = [
        "| fault | " + " | ".join(_COLUMNS) + " | failed by status |",
        "|---" * (len(_COLUMNS) + 2) + "|",
    ]
    for name, row in result["faults"].items():
        cells = [str(row[column]) for column in _COLUMNS]
        statuses = ", ".join(f"{s}: {n}" for s, n in row["failed_by_status"].items()) or "-"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {statuses} |")
    return "\n".join(lines)


def run(*, quick: bool, as_json: bool, results_dir: Path | None, seed: int, only: str) -> int:
    """Run the scenario and print the result; exit code 0 unless it could not run."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    directory = (results_dir or Path(".gie/bench") / f"faults-{stamp}").absolute()
    names = tuple(name.strip() for name in only.split(",") if name.strip())
    try:
        selected_faults(names)
    except ValueError as error:
        _progress(f"error: {error}")
        return 1
    options = FaultsOptions.for_mode(
        quick=quick, seed=seed, work_dir=directory / "work", only=names
    )
    return run_and_report(
        run_faults(options, progress=_progress),
        directory=directory,
        as_json=as_json,
        report=report,
        progress=_progress,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="Shorter windows per fault.")
    parser.add_argument("--json", action="store_true", help="Print one JSON object.")
    parser.add_argument("--only", default="", help="Comma-separated fault names (default all).")
    parser.add_argument("--results-dir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    return run(
        quick=args.quick,
        as_json=args.json,
        results_dir=args.results_dir,
        seed=args.seed,
        only=args.only,
    )
