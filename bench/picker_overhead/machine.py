"""What the numbers were measured on: cores, CPU model, versions, the code's revision.

Blocking (it runs ``envoy --version`` and ``git``): call it before the event loop starts.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from bench.picker_overhead.picker_source import PICKER_SOURCE_DIRS
from bench.picker_overhead.processes import REPO_ROOT
from gie_cli.devstack import find_envoy

__all__ = ["describe_machine"]


def _output(argv: list[str]) -> str:
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=30, check=False, cwd=REPO_ROOT
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    return done.stdout.strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe_machine(*, picker_commit: str | None) -> dict[str, str]:
    """Facts about the machine and the code; ``picker_commit`` when a revision was exported."""
    envoy = _output([str(find_envoy()), "--version"])
    dirty = _output(["git", "status", "--porcelain", "--", *PICKER_SOURCE_DIRS])
    picker = f"git {picker_commit} (exported)"
    if picker_commit is None:
        picker = "working tree" + (" with uncommitted changes" if dirty else ", clean")
    return {
        "cores": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "envoy": envoy.split("version:")[-1].strip() if envoy else "unknown",
        "head": _output(["git", "rev-parse", "--short", "HEAD"]),
        "picker_code": picker,
        "load_average_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
