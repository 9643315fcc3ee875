"""``prefix-cache-scorer``: prefer endpoints that recently saw the prompt's prefix.

Upstream's approximate prefix cache (v1.2 semantics): the prompt is cut into
``blockSize``-character blocks hashed as a chain seeded with the target model
and ``cache_salt`` (see :mod:`gie.prefix`); at most ``maxPrefixBlocksToMatch``
blocks count. An endpoint scores the number of consecutive leading blocks the
shared index says it holds, divided by the prompt's block count (0 when the
prompt is shorter than one block). With ``autoTune`` the block size follows the
model servers' KV block size (tokens x 4 characters) and each endpoint's index
capacity its reported number of KV blocks; otherwise ``blockSize`` and
``lruCapacityPerServer``. The index is shared by every picker replica: it is
folded from every replica's ``RequestRouted`` events, which carry the hashes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from pydantic import Field

from gie.prefix import PrefixKey, block_hashes
from gie.tokens import CHARS_PER_TOKEN
from gie.view import EndpointState
from gie_picker.scheduling.contracts import (
    PluginContext,
    PrefixLookup,
    PreparedPrefix,
    SchedulingRequest,
)
from gie_picker.scheduling.parameters import PluginParameters


class PrefixCacheParameters(PluginParameters):
    """Upstream's prefix-cache parameters and defaults (v1.2)."""

    auto_tune: bool = Field(
        default=True,
        alias="autoTune",
        description="Size blocks and the index from the model servers' reported KV cache.",
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
    TYPE: ClassVar[str] = "prefix-cache-scorer"

    def __init__(
        self,
        params: PrefixCacheParameters,
        *,
        name: str = TYPE,
        cache: PrefixLookup | None = None,
        key: PrefixKey | None = None,
    ) -> None:
        self.name = name
        self.params = params
        self._cache = cache
        self._key = key or PrefixKey.public_default()
        self._seen: list[EndpointState] = []  # the candidates the two below are from
        self._addresses: frozenset[str] = frozenset()
        self._auto_block_size: int | None = None

    @classmethod
    def create(
        cls, name: str, params: PrefixCacheParameters, context: PluginContext
    ) -> PrefixCacheScorer:
        return cls(params, name=name, cache=context.prefix_cache, key=context.prefix_key)

    def block_size(self, endpoints: Sequence[EndpointState]) -> int:
        if not self.params.auto_tune:
            return self.params.block_size
        self._refresh(endpoints)
        return self._auto_block_size or self.params.block_size

    def _refresh(self, endpoints: Sequence[EndpointState]) -> None:
        """Recompute what depends on the candidates alone, when they changed."""
        if endpoints == self._seen:  # identical states compare fast
            return
        self._seen = list(endpoints)
        self._addresses = frozenset(state.address for state in endpoints)
        self._auto_block_size = next(
            (
                state.metrics.kv_block_size * CHARS_PER_TOKEN
                for state in endpoints
                if state.metrics is not None and state.metrics.kv_block_size
            ),
            None,
        )

    def score(
        self, request: SchedulingRequest, endpoints: Sequence[EndpointState]
    ) -> dict[str, float]:
        if self._cache is None or not request.prompt:
            return {}
        block_size = self.block_size(endpoints)
        limit = block_size * self.params.max_prefix_blocks_to_match
        text = request.prompt[:limit].encode()[:limit]  # a character is at least one byte
        hashes = tuple(
            block_hashes(
                text,
                key=self._key,
                model=request.model,
                cache_salt=request.cache_salt,
                block_size=block_size,
                max_blocks=self.params.max_prefix_blocks_to_match,
            )
        )
        matched = self._cache.match(hashes) if hashes else None
        self._cache.prepare(
            request.request_id,
            PreparedPrefix(
                hashes,
                block_size,
                self.params.auto_tune,
                self.params.lru_capacity_per_server,
                matched=matched,
            ),
        )
        if not matched:
            return {}
        # Sparse: endpoints without a match are left out (they score 0).
        self._refresh(endpoints)
        return {
            address: length / len(hashes)
            for address, length in matched.items()
            if address in self._addresses
        }
