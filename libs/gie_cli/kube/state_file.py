"""``--state FILE``: the objects and the resourceVersion counter, kept across restarts.

The file is JSON, rewritten atomically (a temporary file in the same folder, flushed to
disk, then renamed over the old one) shortly after every change and when the server
stops, so a crash leaves either the previous state or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["StateFileError", "load_state", "save_state"]

FORMAT = "gie.kube/v1"


class StateFileError(Exception):
    """The state file exists but cannot be read as a state."""


def load_state(path: Path) -> dict[str, Any] | None:
    """The saved state, or None when there is no file yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        state = json.loads(text)
    except ValueError as error:
        raise StateFileError(f"{path}: not a state file: {error}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise StateFileError(f"{path}: not a state file of format {FORMAT}")
    return state


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically (blocking: call it off the event loop)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps({"format": FORMAT, **state}, separators=(",", ":"))
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
