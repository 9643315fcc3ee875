"""The routing history as scorers and the director use it.

Scorers read endpoint recency and session stickiness and register the
request's session key; once the request is routed the director records the
decision (``routed``), which returns the session key to publish in
``RequestRouted`` so every replica learns it. One event loop owns it.
"""

from __future__ import annotations

from collections import OrderedDict

from gie.view import RoutingHistory

_MAX_PREPARED = 10_000


class RoutingMemory:
    def __init__(self, history: RoutingHistory) -> None:
        self.history = history
        self._sessions: OrderedDict[str, str] = OrderedDict()

    def least_recent_first(self, addresses: list[str]) -> list[str]:
        return self.history.least_recent_first(addresses)

    def session_endpoint(self, session: str) -> str | None:
        return self.history.session_endpoint(session)

    def prepare_session(self, request_id: str, session: str) -> None:
        self._sessions[request_id] = session
        while len(self._sessions) > _MAX_PREPARED:
            self._sessions.popitem(last=False)

    def routed(self, request_id: str, target: str) -> str | None:
        session = self._sessions.pop(request_id, None)
        self.history.note(target, session=session)
        return session

    def discard(self, request_id: str) -> None:
        self._sessions.pop(request_id, None)
