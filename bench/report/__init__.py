"""Reports written into the results directory: ``results.json`` (everything),
``results.md`` (a table per arm and load) and PNG plots against the load.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.report.markdown import render_markdown, results_table
from bench.report.plots import write_plots
from bench.results import BenchResult

__all__ = ["load_results", "render_markdown", "results_table", "write_plots", "write_reports"]

RESULTS_JSON = "results.json"


def write_reports(result: BenchResult, directory: Path, *, plots: bool = True) -> list[Path]:
    """Write ``results.json``, ``results.md`` and (unless ``plots`` is False) the PNGs."""
    directory.mkdir(parents=True, exist_ok=True)
    written = [directory / RESULTS_JSON, directory / "results.md"]
    written[0].write_text(json.dumps(result.model_dump(mode="json"), indent=2) + "\n")
    written[1].write_text(render_markdown(result), encoding="utf-8")
    if plots:
        written += write_plots(result, directory)
    return written


def load_results(directory: Path) -> BenchResult:
    """Read back a ``results.json`` (to re-render reports)."""
    return BenchResult.model_validate_json((directory / RESULTS_JSON).read_text(encoding="utf-8"))
