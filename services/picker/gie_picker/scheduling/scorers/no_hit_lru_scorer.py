"""``no-hit-lru-scorer``: send a request with no prefix hit anywhere to the least
recently used endpoint, so cold prompts (new prefixes) spread over the pool.

When the request's prompt has a prefix match on some candidate (as the
``prefix-cache-scorer`` in the same profile found), every endpoint scores 0 and
the prefix scorer decides. Otherwise candidates are ranked by how recently any
replica routed to them (the shared routing history): never or least recently
used scores 1, the most recently used 0, linearly in between. Needs
``prefix-cache-scorer`` in the profile, before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from gie.view import EndpointState
from gie_picker.scheduling.contracts import (
    PluginContext,
    PrefixLookup,
    RoutingMemory,
    SchedulingRequest,
)
from gie_picker.scheduling.parameters import NoParameters


class NoHitLRUScorer:
    TYPE: ClassVar[str] = "no-hit-lru-scorer"

    def __init__(
        self,
        *,
        name: str = TYPE,
        prefix_cache: PrefixLookup | None = None,
        routing: RoutingMemory | None = None,
    ) -> None:
        self.name = name
        self._prefix_cache = prefix_cache
        self._routing = routing

    @classmethod
    def create(cls, name: str, params: NoParameters, context: PluginContext) -> NoHitLRUScorer:
        return cls(name=name, prefix_cache=context.prefix_cache, routing=context.routing)

    def _warm(self, request: SchedulingRequest, addresses: set[str]) -> bool:
        if self._prefix_cache is None:
            return False
        hashes = self._prefix_cache.prepared_hashes(request.request_id)
        if not hashes:
            return False
        return any(address in addresses for address in self._prefix_cache.match(hashes))

    def score(
        self, request: SchedulingRequest, endpoints: Sequence[EndpointState]
    ) -> dict[str, float]:
        addresses = [state.address for state in endpoints]
        if self._routing is None or self._warm(request, set(addresses)):
            return dict.fromkeys(addresses, 0.0)
        ordered = self._routing.least_recent_first(addresses)
        if len(ordered) == 1:
            return {ordered[0]: 1.0}
        last = len(ordered) - 1
        return {address: 1.0 - index / last for index, address in enumerate(ordered)}
