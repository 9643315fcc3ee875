"""The final outcome of a request under flow control."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """What became of an admitted request; values are upstream's metric labels.

    Exactly one outcome per request id, however many times it is admitted.
    """

    DISPATCHED = "Dispatched"  # proceed to scheduling
    REJECTED_CAPACITY = "RejectedCapacity"  # a capacity limit, or displaced: HTTP 429
    EVICTED_TTL = "EvictedTTL"  # waited past its TTL or deadline: HTTP 503
    CANCELLED = "EvictedContextCancelled"  # the caller went away while it was queued

    @property
    def http_status(self) -> int:
        """The status a gateway answers for this outcome (200: go on and schedule)."""
        return _HTTP_STATUS[self]


_HTTP_STATUS = {
    Outcome.DISPATCHED: 200,
    Outcome.REJECTED_CAPACITY: 429,
    Outcome.EVICTED_TTL: 503,
    Outcome.CANCELLED: 503,
}
