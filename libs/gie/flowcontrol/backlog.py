"""BacklogView: requests queued by flow control per priority band, folded from flow events.

For the picker's fast path: a request may skip the flow-controller only while the pool
is not saturated *and* nothing waits at its priority or above. Every flow-controller
replica publishes the flow events of the changes it makes, so every picker replica that
folds them sees the same backlog.

* ``RequestQueued`` counts the request in its band, keyed by request id: a redelivered
  event changes nothing.
* ``RequestDispatched`` / ``RequestEvicted`` take it out, and are remembered, so a
  duplicate outcome or a ``RequestQueued`` redelivered after it changes nothing;
  ``RequestRejected`` (never queued) is remembered alike.
* ``expire(now)`` forgets requests queued more than ``ttl_s`` before ``now`` (a lost
  outcome event never leaves a phantom backlog) and old remembered outcomes.

``apply`` is a pure fold (times come from the events); only ``expire`` reads the
caller's clock. Not thread-safe: one task feeds it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from gie.events import Event, RequestDispatched, RequestEvicted, RequestQueued, RequestRejected

DEFAULT_TTL_S = 600.0


class BacklogView:
    """Requests waiting in flow control, per priority band, for one pool."""

    def __init__(self, pool: str, *, ttl_s: float = DEFAULT_TTL_S) -> None:
        if ttl_s <= 0:
            raise ValueError(f"ttl_s must be positive, got {ttl_s}")
        self.pool = pool
        self.ttl = timedelta(seconds=ttl_s)
        self._queued: dict[str, tuple[int, datetime]] = {}
        self._finished: dict[str, datetime] = {}
        self._bands: Counter[int] = Counter()

    def apply(self, event: Event) -> bool:
        """Fold one event in; return True when a band's count changed."""
        if event.pool != self.pool:
            return False
        if isinstance(event, RequestQueued):
            if event.request_id in self._queued or event.request_id in self._finished:
                return False
            self._queued[event.request_id] = (event.priority, event.occurred_at)
            self._bands[event.priority] += 1
            return True
        if isinstance(event, RequestDispatched | RequestEvicted | RequestRejected):
            if event.request_id in self._finished:
                return False
            self._finished[event.request_id] = event.occurred_at
            return self._drop(event.request_id)
        return False

    def _drop(self, request_id: str) -> bool:
        entry = self._queued.pop(request_id, None)
        if entry is None:
            return False
        self._bands[entry[0]] -= 1
        if not self._bands[entry[0]]:
            del self._bands[entry[0]]
        return True

    def expire(self, now: datetime) -> int:
        """Forget entries older than the TTL; returns how many queued ones were dropped."""
        cutoff = now - self.ttl
        stale = [rid for rid, (_, at) in self._queued.items() if at < cutoff]
        for request_id in stale:
            self._drop(request_id)
        self._finished = {rid: at for rid, at in self._finished.items() if at >= cutoff}
        return len(stale)

    def queued(self, priority: int) -> int:
        """Requests waiting in the band at ``priority``."""
        return self._bands.get(priority, 0)

    def waiting_at_or_above(self, priority: int) -> bool:
        """Something waits at ``priority`` or higher: a new request must queue too."""
        return any(band >= priority for band in self._bands)

    def bands(self) -> dict[int, int]:
        """Priority -> requests waiting, for bands with any."""
        return dict(self._bands)

    def __len__(self) -> int:
        return len(self._queued)
