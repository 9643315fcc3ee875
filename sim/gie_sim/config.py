"""Performance profile of one simulated server.

The defaults describe Llama-3-8B (fp16/bf16) served by vLLM on one H100-80GB-class GPU.
``docs/simulator.md`` explains where every number comes from.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gie.tokenize import Tokenizer, TokenizerLoadError, load_tokenizer
from gie.tokens import CHARS_PER_TOKEN

__all__ = ["Flavour", "SimConfig"]

Flavour = Literal["vllm", "sglang", "trtllm"]


class SimConfig(BaseModel):
    """Immutable per-server configuration. Every field has a ``gie-sim --field-name`` flag."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(
        default="sim-llama",
        min_length=1,
        description="Served model name (when --served-model-name is not given); requests "
        "naming another model get a 404.",
    )
    served_model_name: tuple[str, ...] = Field(
        default=(),
        description="Model names the server answers to, as vLLM's --served-model-name "
        "(several, space- or comma-separated); the first labels the metrics. "
        "Default: --model.",
    )
    flavour: Flavour = Field(
        default="vllm",
        description="Model server whose /metrics page is served: vllm, sglang or trtllm "
        "(Triton with the TensorRT-LLM backend).",
    )
    time_scale: float = Field(
        default=1.0,
        ge=0.0,
        description="Multiplies every simulated duration (0 = instant, 0.01 = 100x faster).",
    )
    max_num_seqs: int = Field(
        default=256,
        ge=1,
        description="Maximum number of running sequences per step (vLLM --max-num-seqs).",
    )
    max_num_batched_tokens: int = Field(
        default=8192,
        ge=1,
        description="Token budget per step; longer prefills are chunked across steps.",
    )
    max_model_len: int = Field(
        default=131072,
        ge=2,
        description="Maximum prompt + completion tokens of one request.",
    )
    num_gpu_blocks: int = Field(
        default=26000,
        ge=1,
        description="KV-cache size in blocks (vLLM reports it in cache_config_info).",
    )
    block_size: int = Field(
        default=16,
        ge=1,
        description="Tokens per KV-cache block; the prefix-cache granularity.",
    )
    prefill_tokens_per_s: float = Field(
        default=15000.0,
        gt=0.0,
        description="Prefill throughput for uncached prompt tokens.",
    )
    decode_itl_ms: float = Field(
        default=6.9,
        ge=0.0,
        description="Fixed cost of one engine step (weights read once per forward pass).",
    )
    decode_itl_per_seq_ms: float = Field(
        default=0.1,
        ge=0.0,
        description="Extra step cost per sequence in the batch (KV reads, sampling).",
    )
    chars_per_token: int = Field(
        default=CHARS_PER_TOKEN,
        ge=1,
        description="Simulated tokenizer: one token per this many characters of text.",
    )
    tokenizer: Literal["chars", "mistral", "hf"] = Field(
        default="chars",
        description="Tokenizer of prompts: chars (one token per --chars-per-token "
        "characters), mistral (mistral-common, as vLLM's --tokenizer-mode mistral) or hf "
        "(a tokenizer.json with the chat template of its tokenizer_config.json); the "
        "latter two read --tokenizer-path and need the tokenizers extra.",
    )
    tokenizer_path: str = Field(
        default="",
        description="mistral: a Tekken or SentencePiece tokenizer file; hf: a "
        "tokenizer.json or the folder holding it.",
    )
    kv_events_port: int = Field(
        default=-1,
        ge=-1,
        le=65535,
        description="Publish prefix-cache changes as vLLM KV events on a ZMQ PUB socket at "
        "this port (server i of a process uses port + i; 0 = ephemeral; -1 = off).",
    )
    kv_events_replay_port: int = Field(
        default=-1,
        ge=-1,
        le=65535,
        description="Port of the KV events' replay ROUTER socket (server i: port + i; "
        "0 = ephemeral; -1 = none).",
    )
    kv_events_encoding: Literal["array", "map"] = Field(
        default="map",
        description="KV event payloads as tagged arrays (vLLM <= 0.23) or tagged maps.",
    )
    kv_events_buffer: int = Field(
        default=10000,
        ge=1,
        description="Batches the replay socket keeps (vLLM keeps 10,000).",
    )
    kv_events_topic: str = Field(
        default="", description="Topic frame of every KV event message (vLLM's default: empty)."
    )
    default_max_tokens: int = Field(
        default=16,
        ge=1,
        description="Completion length when a request does not set max_tokens.",
    )

    @field_validator("served_model_name")
    @classmethod
    def _check_names(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        if any(not name for name in names):
            raise ValueError("served_model_name: a name is empty")
        if len(set(names)) != len(names):
            raise ValueError(f"served_model_name: a name is given twice: {', '.join(names)}")
        return names

    @property
    def served_models(self) -> tuple[str, ...]:
        """The names requests may give; the first is the one metrics carry."""
        return self.served_model_name or (self.model,)

    @model_validator(mode="after")
    def _check_tokenizer(self) -> Self:
        try:
            self.prompt_tokenizer()
        except TokenizerLoadError as exc:
            field = "tokenizer" if exc.field == "kind" else "tokenizer_path"
            raise ValueError(f"{field}: {exc}") from exc
        return self

    def prompt_tokenizer(self) -> Tokenizer:
        """The tokenizer prompts go through (loaded once per process, then shared)."""
        return load_tokenizer(
            self.tokenizer, self.tokenizer_path, chars_per_token=self.chars_per_token
        )

    @model_validator(mode="after")
    def _check_budget(self) -> Self:
        if self.max_num_batched_tokens < self.max_num_seqs:
            raise ValueError(
                "max_num_batched_tokens must be >= max_num_seqs "
                "(every running sequence needs one token of budget per step)"
            )
        return self

    def step_seconds(self, num_seqs: int, prefill_tokens: int) -> float:
        """Simulated wall time of one engine step, already multiplied by ``time_scale``.

        A step runs one forward pass over ``num_seqs`` sequences: each decoding sequence
        contributes one token, each prefilling sequence contributes its prompt chunk
        (``prefill_tokens`` in total). Decoding is memory-bound (fixed cost plus a small
        per-sequence cost); prefill is compute-bound (linear in tokens).
        """
        if num_seqs <= 0:
            return 0.0
        millis = self.decode_itl_ms + self.decode_itl_per_seq_ms * num_seqs
        seconds = millis / 1000.0 + prefill_tokens / self.prefill_tokens_per_s
        return seconds * self.time_scale
