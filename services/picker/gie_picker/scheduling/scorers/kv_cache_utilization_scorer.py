"""``kv-cache-utilization-scorer``: prefer endpoints with free KV-cache."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from gie.view import EndpointState
from gie_picker.scheduling.contracts import PluginContext, SchedulingRequest
from gie_picker.scheduling.parameters import NoParameters


class KVCacheUtilizationScorer:
    """Score ``1 - utilisation`` (utilisation in [0, 1]).

    An endpoint not scraped yet counts as empty (score 1), as upstream's
    zero-valued metrics do; stale metrics are used as they are.
    """

    TYPE: ClassVar[str] = "kv-cache-utilization-scorer"
    ENDPOINTS_ONLY: ClassVar[bool] = True  # a function of the endpoints' metrics alone

    def __init__(self, name: str = TYPE) -> None:
        self.name = name

    @classmethod
    def create(
        cls, name: str, params: NoParameters, context: PluginContext
    ) -> KVCacheUtilizationScorer:
        return cls(name)

    def score(
        self, request: SchedulingRequest, endpoints: Sequence[EndpointState]
    ) -> dict[str, float]:
        return {
            state.address: 1.0 - (state.metrics.kv_cache_usage if state.metrics else 0.0)
            for state in endpoints
        }
