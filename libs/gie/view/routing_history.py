"""Where requests went lately: endpoint recency and session stickiness.

Folded from ``RequestRouted`` events of every picker replica (stream order),
plus this replica's own decisions as soon as it makes them (``note``), so a
burst of decisions sees itself. ``recency`` orders endpoints least recently
routed-to first; ``sessions`` maps a session key (a hash of the client's
session header, never its value) to the endpoint it last went to, bounded LRU.
One event loop owns it.
"""

from __future__ import annotations

from collections import OrderedDict

from gie.events import Event, RequestRouted

DEFAULT_MAX_SESSIONS = 100_000


class RoutingHistory:
    def __init__(self, pool: str, *, max_sessions: int = DEFAULT_MAX_SESSIONS) -> None:
        self.pool = pool
        self._recency: OrderedDict[str, None] = OrderedDict()
        self._sessions: OrderedDict[str, str] = OrderedDict()
        self._max_sessions = max_sessions

    def apply(self, event: Event) -> bool:
        if not isinstance(event, RequestRouted) or event.pool != self.pool:
            return False
        self.note(event.target, session=event.session)
        return True

    def note(self, target: str, *, session: str | None = None) -> None:
        """Record a decision (this replica's, before its event comes back)."""
        self._recency[target] = None
        self._recency.move_to_end(target)
        if session:
            self._sessions[session] = target
            self._sessions.move_to_end(session)
            while len(self._sessions) > self._max_sessions:
                self._sessions.popitem(last=False)

    def least_recent_first(self, addresses: list[str]) -> list[str]:
        """``addresses`` ordered from never/least recently routed-to to most recent."""
        rank = {address: index for index, address in enumerate(self._recency)}
        return sorted(addresses, key=lambda address: rank.get(address, -1))

    def session_endpoint(self, session: str) -> str | None:
        return self._sessions.get(session)
