"""``session-affinity-scorer``: keep a session on one endpoint while it has capacity.

Requests carrying the session header (``headerName``, default
``x-session-id``) score 1 on the endpoint the session's previous request went
to — as any picker replica routed it, from the shared routing history — when
that endpoint still has capacity by the pool's saturation rule; everything
else scores 0, so a session moves on when its endpoint is saturated. Only a
hash of the header value, keyed with the pool's secret (so a reader of the events
cannot confirm a guessed value), is kept and published, never the value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import Field

from gie.prefix import PrefixKey
from gie.saturation import SaturationConfig, has_capacity
from gie.view import EndpointState
from gie_picker.scheduling.contracts import PluginContext, RoutingMemory, SchedulingRequest
from gie_picker.scheduling.parameters import PluginParameters


class SessionAffinityParameters(PluginParameters):
    header_name: str = Field(
        default="x-session-id",
        min_length=1,
        alias="headerName",
        description="Request header naming the session.",
    )


def session_key(value: str, *, key: PrefixKey) -> str:
    """What is kept and published for a session: a keyed hash of its header value."""
    mac = key.session_mac.copy()
    mac.update(value.encode())
    return mac.hexdigest()


class SessionAffinityScorer:
    TYPE: ClassVar[str] = "session-affinity-scorer"

    def __init__(
        self,
        params: SessionAffinityParameters,
        *,
        name: str = TYPE,
        routing: RoutingMemory | None = None,
        saturation: SaturationConfig | None = None,
        now: Callable[[], datetime] | None = None,
        key: PrefixKey | None = None,
    ) -> None:
        self.name = name
        self.params = params
        self._routing = routing
        self._saturation = saturation or SaturationConfig()
        self._now = now or (lambda: datetime.now(UTC))
        self._key = key or PrefixKey.public_default()

    @classmethod
    def create(
        cls, name: str, params: SessionAffinityParameters, context: PluginContext
    ) -> SessionAffinityScorer:
        return cls(
            params,
            name=name,
            routing=context.routing,
            saturation=context.saturation,
            key=context.prefix_key,
        )

    def score(
        self, request: SchedulingRequest, endpoints: Sequence[EndpointState]
    ) -> dict[str, float]:
        scores = dict.fromkeys((state.address for state in endpoints), 0.0)
        value = request.header(self.params.header_name)
        if self._routing is None or not value:
            return scores
        key = session_key(value, key=self._key)
        self._routing.prepare_session(request.request_id, key)
        sticky = self._routing.session_endpoint(key)
        now = self._now()
        for state in endpoints:
            if state.address == sticky and has_capacity(state, now=now, config=self._saturation):
                scores[state.address] = 1.0
        return scores
