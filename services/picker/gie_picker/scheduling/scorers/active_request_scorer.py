"""``active-request-scorer``: prefer endpoints with fewer requests in flight.

Counts come from :class:`~gie_picker.scheduling.contracts.InFlightCounts`, in
the service the ``InFlightView`` folded from every picker replica's
``RequestRouted`` / ``RequestCompleted`` events, so all replicas agree.
Scoring follows llm-d's active-request scorer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from pydantic import Field, field_validator

from gie.config.durations import parse_duration
from gie.view import EndpointState
from gie_picker.scheduling.contracts import InFlightCounts, PluginContext, SchedulingRequest
from gie_picker.scheduling.parameters import PluginParameters


class ActiveRequestParameters(PluginParameters):
    idle_threshold: int = Field(
        default=0,
        ge=0,
        alias="idleThreshold",
        description="Endpoints with at most this many requests in flight score 1.",
    )
    max_busy_score: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        alias="maxBusyScore",
        description="The best score a busy endpoint (above idleThreshold) can get.",
    )
    request_timeout: str | None = Field(
        default=None,
        alias="requestTimeout",
        description="Accepted for llm-d compatibility and ignored: in-flight entries "
        "expire after the picker's in-flight TTL.",
    )

    @field_validator("request_timeout")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    def warnings(self) -> tuple[str, ...]:
        if self.request_timeout is None:
            return ()
        return ("parameters.requestTimeout is deprecated and ignored",)


class ActiveRequestScorer:
    """Idle endpoints (``n <= idleThreshold``) score 1; a busy one scores
    ``(max - n) / max * maxBusyScore``, ``max`` the most in flight on any candidate."""

    TYPE: ClassVar[str] = "active-request-scorer"

    def __init__(
        self,
        inflight: InFlightCounts,
        *,
        name: str = TYPE,
        idle_threshold: int = 0,
        max_busy_score: float = 1.0,
    ) -> None:
        self.name = name
        self._inflight = inflight
        self._idle_threshold = idle_threshold
        self._max_busy_score = max_busy_score

    @classmethod
    def create(
        cls, name: str, params: ActiveRequestParameters, context: PluginContext
    ) -> ActiveRequestScorer:
        return cls(
            context.inflight,
            name=name,
            idle_threshold=params.idle_threshold,
            max_busy_score=params.max_busy_score,
        )

    def score(
        self, request: SchedulingRequest, endpoints: Sequence[EndpointState]
    ) -> dict[str, float]:
        counts = {state.address: self._inflight.count(state.address) for state in endpoints}
        busiest = max(counts.values(), default=0)
        return {address: self._score(n, busiest) for address, n in counts.items()}

    def _score(self, n: int, busiest: int) -> float:
        if n <= self._idle_threshold:
            return 1.0
        return (busiest - n) / busiest * self._max_busy_score
