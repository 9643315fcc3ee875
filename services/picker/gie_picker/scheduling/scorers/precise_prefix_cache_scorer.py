"""``precise-prefix-cache-scorer``: prefer endpoints whose KV cache truly holds the prompt.

llm-d's scorer of the same name, fed by the model servers' own KV-cache events (the
metrics-collector republishes them as ``Kv*`` events; every picker replica folds them
into the same :class:`~gie.prefix.PreciseIndex`). The request's prompt is tokenized with
the context's tokenizer (by default the characters-per-token stand-in the simulator also
uses), cut into blocks of the endpoint's announced block size (``blockSize`` until one is
announced) and keyed with :func:`~gie.prefix.token_block_keys`; an endpoint scores the
number of consecutive leading blocks it holds, divided by the prompt's block count (at
most ``maxPrefixBlocksToMatch``).

While an endpoint's precise state is unknown (no events yet, or a gap the collector could
not fill) the approximate ``prefix-cache-scorer``'s estimate stands in for it; this
scorer also prepares the approximate hashes, so routing events keep feeding the
approximate index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import structlog
from pydantic import Field

from gie.prefix import PrefixKey, token_block_keys
from gie.tokenize import PromptInput, Tokenizer
from gie.view import EndpointState
from gie_picker.scheduling.contracts import PluginContext, PreciseLookup, SchedulingRequest
from gie_picker.scheduling.scorers.prefix_cache_scorer import (
    PrefixCacheParameters,
    PrefixCacheScorer,
)

__all__ = ["PrecisePrefixCacheParameters", "PrecisePrefixCacheScorer"]

_log = structlog.get_logger("gie.picker.scheduling")


class PrecisePrefixCacheParameters(PrefixCacheParameters):
    """``blockSize`` is in tokens here (llm-d's ``tokenProcessorConfig.blockSize``);
    the approximate stand-in keeps upstream's defaults for its own parameters."""

    block_size: int = Field(
        default=16,
        gt=0,
        alias="blockSize",
        description="Tokens per KV block until an endpoint announces its own.",
    )


class PrecisePrefixCacheScorer:
    TYPE: ClassVar[str] = "precise-prefix-cache-scorer"

    def __init__(
        self,
        params: PrecisePrefixCacheParameters,
        *,
        name: str = TYPE,
        precise: PreciseLookup | None,
        approximate: PrefixCacheScorer,
        tokenizer: Tokenizer,
        key: PrefixKey | None = None,
    ) -> None:
        self.name = name
        self.params = params
        self._precise = precise
        self._approximate = approximate
        self._tokenizer = tokenizer
        self._key = key or PrefixKey.public_default()

    @classmethod
    def create(
        cls, name: str, params: PrecisePrefixCacheParameters, context: PluginContext
    ) -> PrecisePrefixCacheScorer:
        approximate_params = PrefixCacheParameters.model_validate(
            {
                "autoTune": params.auto_tune,
                "maxPrefixBlocksToMatch": params.max_prefix_blocks_to_match,
                "lruCapacityPerServer": params.lru_capacity_per_server,
            }
        )
        approximate = PrefixCacheScorer(
            approximate_params, name=name, cache=context.prefix_cache, key=context.prefix_key
        )
        return cls(
            params,
            name=name,
            precise=context.precise_prefix,
            approximate=approximate,
            tokenizer=context.tokenizer,
            key=context.prefix_key,
        )

    def score(
        self, request: SchedulingRequest, endpoints: Sequence[EndpointState]
    ) -> dict[str, float]:
        scores = self._approximate.score(request, endpoints)
        precise = self._precise
        if precise is None or request.prompt_input is None:
            return scores
        known = [e.address for e in endpoints if precise.precise_known(e.address)]
        if not known:
            return scores
        by_size: dict[int, list[str]] = {}
        for address in known:
            size = precise.precise_block_size(address) or self.params.block_size
            by_size.setdefault(size, []).append(address)
        tokens = self._tokens(request.prompt_input, max(by_size))
        if tokens is None:
            return scores
        for size, addresses in by_size.items():
            keys = token_block_keys(
                tokens, size, key=self._key, max_blocks=self.params.max_prefix_blocks_to_match
            )
            matched = precise.precise_match(keys, addresses) if keys else {}
            for address in addresses:
                scores[address] = matched.get(address, 0) / len(keys) if keys else 0.0
        return scores

    def _tokens(self, prompt: PromptInput, block_size: int) -> list[int] | None:
        try:
            return self._tokenizer.encode(
                prompt, max_tokens=block_size * self.params.max_prefix_blocks_to_match
            )
        except ValueError as exc:
            _log.warning("prompt not tokenized", tokenizer=self._tokenizer.name, error=str(exc))
            return None
