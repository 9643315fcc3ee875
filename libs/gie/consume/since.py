"""Reading a start: a duration back from now (``90s``, ``10m``, ``2h``, ``1d``) or an
RFC 3339 time (``2026-12-07T09:00:00Z``; a time without offset is UTC)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from gie.consume.errors import InvalidSinceError

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(s|m|h|d)")
_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """The start time ``text`` names (UTC); InvalidSinceError quotes a bad value."""
    value = text.strip()
    match = _DURATION.fullmatch(value)
    if match:
        seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidSinceError(
            f"since {text!r} is neither a duration (90s, 10m, 2h, 1d) nor an RFC 3339 time"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def start_of(since: str | datetime | None) -> datetime | None:
    """The UTC start ``since`` names: text as :func:`parse_since` reads it, a datetime
    as given (one without offset is UTC, as in text), None for none."""
    if since is None:
        return None
    if isinstance(since, str):
        return parse_since(since)
    return since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
