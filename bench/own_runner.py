"""The tail shared by scenarios with their own runner (``fairness``, ``faults``): run,
keep ``results.json``, print the report or one JSON object."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

__all__ = ["run_and_report"]


def run_and_report(
    run: Coroutine[Any, Any, dict[str, Any]],
    *,
    directory: Path,
    as_json: bool,
    report: Callable[[dict[str, Any]], str],
    progress: Callable[[str], None],
) -> int:
    """Exit code 0 unless the scenario could not run (the error is reported)."""
    try:
        result = asyncio.run(run)
    except (OSError, RuntimeError) as error:
        progress(f"error: {error}")
        return 1
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    progress(f"results: {directory / 'results.json'}")
    sys.stdout.write((json.dumps(result) if as_json else report(result)) + "\n")
    return 0
