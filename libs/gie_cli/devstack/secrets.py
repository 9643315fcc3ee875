"""Secrets the local stack makes for itself at start (kept across restarts of the stack)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["PREFIX_KEY_FILE", "ensure_prefix_key"]

# The pool's prefix-hash secret, read by every picker and collector (GIE_PREFIX_KEY_FILE).
PREFIX_KEY_FILE = "prefix-key"


def ensure_prefix_key(directory: Path) -> Path:
    """The stack's prefix-key file in ``directory``: made (32 random bytes, hex, owner-only)
    when missing, kept otherwise so hashes already in the stream stay comparable."""
    path = directory / PREFIX_KEY_FILE
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(secrets.token_hex(32) + "\n")
    return path
