"""Errors of the consumer SDK.

::

    GieConsumeError
    ├── StartTooOldError   the start is older than what the stream keeps (like HTTP 410 Gone)
    └── InvalidSinceError  a --since / since value that is neither a duration nor a time
"""

from __future__ import annotations

from datetime import datetime


class GieConsumeError(Exception):
    """Base of every error the consumer SDK raises."""


class InvalidSinceError(GieConsumeError, ValueError):
    """``since`` is neither a duration like ``10m`` nor an RFC 3339 time."""


class StartTooOldError(GieConsumeError):
    """Events from the requested start on are no longer all in the stream: some were
    removed by its retention (age or size limit). Start later, or accept the loss by
    starting at the oldest kept event."""

    def __init__(self, *, stream: str, since: datetime, oldest: datetime) -> None:
        super().__init__(
            f"gone (410): stream {stream} no longer keeps events from {since.isoformat()}; "
            f"its oldest event is from {oldest.isoformat()} and older ones were removed "
            f"by its retention; start at or after that time"
        )
        self.stream = stream
        self.since = since
        self.oldest = oldest
