"""Capturing the structured log entries of one logger, with their fields.

Services log through structlog over the standard library (``gie.telemetry.logging``), so
every entry reaches the stdlib logger named after the structlog logger with its event
dict as the message. A handler on that named logger sees them whatever the root
logger's handlers are (a service run in process replaces those when it starts).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import structlog

from gie.telemetry import configure_logging


class _Entries(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.entries: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, dict):
            self.entries.append({**record.msg, "level": record.levelname.lower()})


@contextlib.contextmanager
def captured_logs(logger: str) -> Iterator[list[dict[str, Any]]]:
    """Event dicts (``event``, the structured fields, ``level``) logged by ``logger`` or
    its children inside the block. Configures gie's logging if nothing did yet."""
    if not structlog.is_configured():
        configure_logging(fmt="console")
    handler = _Entries()
    target = logging.getLogger(logger)
    target.addHandler(handler)
    try:
        yield handler.entries
    finally:
        target.removeHandler(handler)
