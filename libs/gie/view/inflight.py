"""InFlightView: requests in flight per endpoint, folded from routing events.

Every picker replica publishes ``RequestRouted`` when it sends a request and
``RequestCompleted`` when the response ends; every replica folds all of them,
so all replicas count the same requests in flight on each endpoint.

* ``RequestRouted`` puts the request on its target, keyed by ``request_id``: a
  redelivered event changes nothing.
* ``RequestCompleted`` takes the request off, whichever endpoint it was counted
  on (a fallback may have served it). It is remembered, so a duplicate
  completion, or a ``RequestRouted`` redelivered after it, changes nothing.
* ``expire(now)`` drops requests routed more than ``ttl_s`` before ``now``, so
  a lost completion never leaks a slot; remembered completions expire alike.

``apply`` is a pure fold (time comes from the events). Only ``expire`` reads
the caller's clock: views that applied the same events and expired at the same
instants are equal, and so are their digests. Not thread-safe: one task feeds it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson

from gie.events import Event, RequestCompleted, RequestRouted

DEFAULT_TTL_S = 600.0


@dataclass(frozen=True, slots=True)
class _InFlight:
    address: str
    routed_at: datetime


class InFlightView:
    """Requests routed and not yet completed, per endpoint address, for one pool."""

    def __init__(self, pool: str, *, ttl_s: float = DEFAULT_TTL_S) -> None:
        if ttl_s <= 0:
            raise ValueError(f"ttl_s must be positive, got {ttl_s}")
        self.pool = pool
        self.ttl = timedelta(seconds=ttl_s)
        self._requests: dict[str, _InFlight] = {}
        self._completed: dict[str, datetime] = {}
        self._counts: dict[str, int] = {}  # only addresses with requests in flight

    def apply(self, event: Event) -> bool:
        """Fold one event in; return True when a count changed."""
        if event.pool != self.pool:
            return False
        if isinstance(event, RequestRouted):
            return self._routed(event)
        if isinstance(event, RequestCompleted):
            return self._completed_event(event)
        return False

    def _routed(self, event: RequestRouted) -> bool:
        if event.request_id in self._requests or event.request_id in self._completed:
            return False
        self._requests[event.request_id] = _InFlight(event.target, event.occurred_at)
        counts = self._counts
        counts[event.target] = counts.get(event.target, 0) + 1
        return True

    def _completed_event(self, event: RequestCompleted) -> bool:
        if event.request_id in self._completed:
            return False
        self._completed[event.request_id] = event.occurred_at
        return self._drop(event.request_id)

    def _drop(self, request_id: str) -> bool:
        entry = self._requests.pop(request_id, None)
        if entry is None:
            return False
        left = self._counts[entry.address] - 1
        if left:
            self._counts[entry.address] = left
        else:
            del self._counts[entry.address]
        return True

    def expire(self, now: datetime) -> int:
        """Forget requests routed, and completions seen, before ``now - ttl``.

        Returns how many in-flight requests were dropped.
        """
        cutoff = now - self.ttl
        stale = [rid for rid, entry in self._requests.items() if entry.routed_at < cutoff]
        for request_id in stale:
            self._drop(request_id)
        self._completed = {rid: at for rid, at in self._completed.items() if at >= cutoff}
        return len(stale)

    def count(self, address: str) -> int:
        """Requests in flight on ``address`` (0 for an unknown endpoint)."""
        return self._counts.get(address, 0)

    def counts(self) -> dict[str, int]:
        """Address -> requests in flight, for endpoints with at least one."""
        return dict(self._counts)

    def __len__(self) -> int:
        return len(self._requests)

    def digest(self) -> str:
        """SHA-256 of the view's content: equal views have equal digests."""
        content = {
            "pool": self.pool,
            "in_flight": {
                rid: [entry.address, entry.routed_at.isoformat()]
                for rid, entry in self._requests.items()
            },
            "completed": {rid: at.isoformat() for rid, at in self._completed.items()},
        }
        return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()
