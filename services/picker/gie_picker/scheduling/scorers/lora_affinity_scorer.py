"""``lora-affinity-scorer``: prefer endpoints that have the request's LoRA adapter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from gie.events import EndpointMetrics
from gie.view import EndpointState
from gie_picker.scheduling.contracts import PluginContext, SchedulingRequest
from gie_picker.scheduling.parameters import NoParameters

ACTIVE = 1.0
FREE_SLOT = 0.8
WAITING = 0.6
UNSUITABLE = 0.0


def lora_affinity(metrics: EndpointMetrics | None, model: str) -> float:
    """Upstream's ladder, first match wins: the adapter is running (1.0); the server
    can load one more adapter, running + waiting < max (0.8); the adapter is waiting
    to load (0.6); otherwise 0. No metrics, or no ``max_lora``, means no free slot."""
    if metrics is None:
        return UNSUITABLE
    if model in metrics.lora_running:
        return ACTIVE
    loaded = len(metrics.lora_running) + len(metrics.lora_waiting)
    if loaded < (metrics.max_lora or 0):
        return FREE_SLOT
    if model in metrics.lora_waiting:
        return WAITING
    return UNSUITABLE


class LoraAffinityScorer:
    """Score each endpoint by :func:`lora_affinity` for the request's target model."""

    TYPE: ClassVar[str] = "lora-affinity-scorer"

    def __init__(self, name: str = TYPE) -> None:
        self.name = name

    @classmethod
    def create(cls, name: str, params: NoParameters, context: PluginContext) -> LoraAffinityScorer:
        return cls(name)

    def score(
        self, request: SchedulingRequest, endpoints: Sequence[EndpointState]
    ) -> dict[str, float]:
        return {state.address: lora_affinity(state.metrics, request.model) for state in endpoints}
