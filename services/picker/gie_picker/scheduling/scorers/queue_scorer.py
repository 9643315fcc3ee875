"""``queue-scorer``: prefer endpoints with shorter waiting queues."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from gie.view import EndpointState
from gie_picker.scheduling.contracts import PluginContext, SchedulingRequest
from gie_picker.scheduling.parameters import NoParameters


class QueueScorer:
    """Score ``(max - q) / (max - min)`` over the candidates' waiting queues ``q``.

    The shortest queue scores 1 and the longest 0; when every queue is equal,
    every endpoint scores 1. Stale metrics are used as they are, as upstream.
    """

    TYPE: ClassVar[str] = "queue-scorer"
    ENDPOINTS_ONLY: ClassVar[bool] = True  # a function of the endpoints' metrics alone

    def __init__(self, name: str = TYPE) -> None:
        self.name = name

    @classmethod
    def create(cls, name: str, params: NoParameters, context: PluginContext) -> QueueScorer:
        return cls(name)

    def score(
        self, request: SchedulingRequest, endpoints: Sequence[EndpointState]
    ) -> dict[str, float]:
        if not endpoints:
            return {}
        queues = [
            state.metrics.waiting_queue_size if state.metrics is not None else 0
            for state in endpoints
        ]
        low, high = min(queues), max(queues)
        if high == low:
            return dict.fromkeys((state.address for state in endpoints), 1.0)
        span = high - low
        return {
            state.address: (high - queue) / span
            for state, queue in zip(endpoints, queues, strict=True)
        }
