"""Which picker code the ``gie-*`` arms run: the installed tree, or a git revision.

By default the picker is whatever ``python -m gie_picker`` imports (the editable install:
the working tree, uncommitted edits included). With a revision, the picker's sources
(``libs/`` and ``services/picker/``) are taken from ``git archive <rev>`` into the run's
directory and put first on the picker's ``PYTHONPATH``, so a tree being edited by others
does not change what is measured. Blocking (runs git): call it before the event loop.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

from bench.picker_overhead.errors import OverheadBenchError
from bench.picker_overhead.processes import REPO_ROOT

__all__ = ["PICKER_SOURCE_DIRS", "export_revision", "pythonpath_of"]

PICKER_SOURCE_DIRS = ("libs", "services/picker")


def _git(*args: str) -> bytes:
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, timeout=60, check=True, cwd=REPO_ROOT
        )
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        raise OverheadBenchError(f"git {' '.join(args)} failed: {exc} {detail.decode()}") from exc
    return done.stdout


def export_revision(revision: str, into: Path) -> str:
    """Extract the picker's sources at ``revision`` under ``into``; return the short hash."""
    commit = _git("rev-parse", "--short", f"{revision}^{{commit}}").decode().strip()
    archive = _git("archive", "--format=tar", commit, *PICKER_SOURCE_DIRS)
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return commit


def pythonpath_of(source: Path) -> str:
    """``PYTHONPATH`` entries that make ``gie`` and ``gie_picker`` import from ``source``."""
    return ":".join(str(source / d) for d in PICKER_SOURCE_DIRS)
