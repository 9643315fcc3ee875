"""``precise-prefix-cache-scorer``: prefer endpoints whose KV cache truly holds the prompt.

llm-d's scorer of the same name, fed by the model servers' own KV-cache events (the
metrics-collector republishes them as ``Kv*`` events; every picker replica folds them
into the same :class:`~gie.prefix.PreciseIndex`). The request's prompt is tokenized with
the context's tokenizer (by default the characters-per-token stand-in the simulator also
uses), cut into blocks of the endpoint's announced block size (``blockSize`` until one is
announced) and keyed with :func:`~gie.prefix.token_block_keys`; an endpoint scores the
number of consecutive leading blocks it holds, divided by the prompt's block count (at
most ``maxPrefixBlocksToMatch``). With a ``tokenizer`` parameter the scorer tokenizes as
the model servers do (a Mistral or Hugging Face tokenizer read from a local file,
:func:`gie.tokenize.load_tokenizer`).

A prompt this replica sent to an endpoint in the last ``recentDecisionsWindowSeconds``
(2 s) counts as held there even before the server's events say so (they arrive after the
server admitted the request, through the collector and the bus).

While an endpoint's precise state is unknown (no events yet, or a gap the collector could
not fill) the approximate ``prefix-cache-scorer``'s estimate stands in for it; this
scorer also prepares the approximate hashes, so routing events keep feeding the
approximate index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

import structlog
from pydantic import Field, ValidationInfo, field_validator

from gie.prefix import PrefixKey, token_block_keys
from gie.tokenize import PromptInput, Tokenizer, TokenizerLoadError, load_tokenizer
from gie.tokens import CHARS_PER_TOKEN
from gie.view import EndpointState
from gie_picker.scheduling.contracts import PluginContext, PreciseLookup, SchedulingRequest
from gie_picker.scheduling.parameters import PluginParameters
from gie_picker.scheduling.scorers.prefix_cache_scorer import (
    PrefixCacheParameters,
    PrefixCacheScorer,
)

__all__ = ["PrecisePrefixCacheParameters", "PrecisePrefixCacheScorer", "TokenizerParameters"]

_log = structlog.get_logger("gie.picker.scheduling")


class TokenizerParameters(PluginParameters):
    """The model servers' tokenizer, read from a local file when the plugin is loaded."""

    kind: Literal["chars", "mistral", "hf"] = Field(
        default="chars",
        description="chars (the simulator's stand-in), mistral (mistral-common: a Tekken "
        "or SentencePiece file) or hf (a tokenizer.json, chat template from the "
        "tokenizer_config.json beside it).",
    )
    chars_per_token: int = Field(
        default=CHARS_PER_TOKEN,
        gt=0,
        alias="charsPerToken",
        description="chars: one token per this many characters (as the simulator's).",
    )
    path: str | None = Field(
        default=None,
        validate_default=True,
        description="mistral: the tokenizer file; hf: a tokenizer.json or its folder.",
    )

    @field_validator("path")
    @classmethod
    def _loads(cls, path: str | None, info: ValidationInfo) -> str | None:
        if "kind" in info.data and "chars_per_token" in info.data:
            try:
                load_tokenizer(
                    info.data["kind"], path, chars_per_token=info.data["chars_per_token"]
                )
            except TokenizerLoadError as exc:
                raise ValueError(str(exc)) from exc
        return path

    def load(self) -> Tokenizer:
        """The tokenizer (loaded once per process, then shared)."""
        return load_tokenizer(self.kind, self.path, chars_per_token=self.chars_per_token)


class PrecisePrefixCacheParameters(PrefixCacheParameters):
    """``blockSize`` is in tokens here (llm-d's ``tokenProcessorConfig.blockSize``);
    the approximate stand-in keeps upstream's defaults for its own parameters."""

    block_size: int = Field(
        default=16,
        gt=0,
        alias="blockSize",
        description="Tokens per KV block until an endpoint announces its own.",
    )
    tokenizer: TokenizerParameters | None = Field(
        default=None,
        description="How the model servers tokenize (default: the simulator's stand-in).",
    )
    recent_decisions_window: float = Field(
        default=2.0,
        ge=0,
        alias="recentDecisionsWindowSeconds",
        description="How long this replica's own decision to send a prompt to an endpoint "
        "counts as that endpoint holding it, until the server's KV events can say so "
        "(0: never).",
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
            tokenizer=context.tokenizer if params.tokenizer is None else params.tokenizer.load(),
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
            precise.precise_untokenized(self._tokenizer.name)
            return scores
        # A prompt just sent somewhere is cached there before the server's events about
        # it can reach the index (admission, then the collector and the bus): the
        # replica's own recent decisions count meanwhile, or a burst sharing a prefix
        # would be spread over the pool.
        recent = precise.recent_share(request.request_id, self.params.recent_decisions_window)
        for size, addresses in by_size.items():
            keys = token_block_keys(
                tokens, size, key=self._key, max_blocks=self.params.max_prefix_blocks_to_match
            )
            matched = precise.precise_match(keys, addresses) if keys else {}
            for address in addresses:
                held = matched.get(address, 0) / len(keys) if keys else 0.0
                scores[address] = max(held, recent.get(address, 0.0))
        return scores

    def _tokens(self, prompt: PromptInput, block_size: int) -> list[int] | None:
        try:
            return self._tokenizer.encode(
                prompt, max_tokens=block_size * self.params.max_prefix_blocks_to_match
            )
        except ValueError as exc:
            _log.warning("prompt not tokenized", tokenizer=self._tokenizer.name, error=str(exc))
            return None
        except Exception as exc:  # a template too deep to render, a tokenizer library's own
            _log.warning(
                "prompt not tokenized: tokenizer failed",
                tokenizer=self._tokenizer.name,
                error=repr(exc)[:300],
            )
            return None
