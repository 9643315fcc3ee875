"""``prefix-cache-scorer``: PLACEHOLDER until the prefix-cache issue lands.

Registered so that the upstream chart's default configuration loads. Its
parameters are upstream v1.2's, validated as they will be used; the scorer
itself gives every endpoint 0, so today it never changes a decision whatever
its weight. The prefix-cache issue replaces :class:`PrefixCacheScorer` (block
hashes of the prompt, a per-endpoint LRU index fed by routing events) behind
the same type name and parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from pydantic import Field

from gie.view import EndpointState
from gie_picker.scheduling.contracts import PluginContext, SchedulingRequest
from gie_picker.scheduling.parameters import PluginParameters


class PrefixCacheParameters(PluginParameters):
    """Upstream's prefix-cache parameters and defaults (v1.2)."""

    auto_tune: bool = Field(
        default=True,
        alias="autoTune",
        description="Size the index from the model servers' reported KV-cache capacity.",
    )
    block_size: int = Field(
        default=64,
        gt=0,
        alias="blockSize",
        description="Prompt characters per hashed block (about 16 tokens).",
    )
    max_prefix_blocks_to_match: int = Field(
        default=256,
        gt=0,
        alias="maxPrefixBlocksToMatch",
        description="Blocks beyond this many are ignored.",
    )
    lru_capacity_per_server: int = Field(
        default=31250,
        gt=0,
        alias="lruCapacityPerServer",
        description="Block hashes remembered per endpoint.",
    )


class PrefixCacheScorer:
    """Placeholder: scores 0 for every endpoint (see the module docstring)."""

    TYPE: ClassVar[str] = "prefix-cache-scorer"

    def __init__(self, params: PrefixCacheParameters, *, name: str = TYPE) -> None:
        self.name = name
        self.params = params

    @classmethod
    def create(
        cls, name: str, params: PrefixCacheParameters, context: PluginContext
    ) -> PrefixCacheScorer:
        return cls(params, name=name)

    def score(
        self, request: SchedulingRequest, endpoints: Sequence[EndpointState]
    ) -> dict[str, float]:
        return dict.fromkeys((state.address for state in endpoints), 0.0)
