"""Where each load signal lives on each supported model server's metrics page.

Built-in :class:`SignalSpecs` follow upstream (REFERENCE §2): vLLM (new and old KV-usage
names), SGLang and Triton with the TensorRT-LLM backend. Every signal may be overridden with
a spec in upstream's ``name{label=value}`` syntax (:meth:`SignalSpecs.with_overrides`).

An endpoint's flavour comes from its ``llm-d.ai/engine-type`` label (or upstream's older
``inference.networking.k8s.io/engine-type``), else from the collector's setting, else it is
recognised from the page itself (:func:`detect_flavour`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from gie_metrics_collector.parsing import MetricSpec, parse_spec

__all__ = [
    "BUILTIN_SPECS",
    "ENGINE_LABELS",
    "OPTIONAL_SIGNALS",
    "SIGNALS",
    "Flavour",
    "SignalSpecs",
    "detect_flavour",
    "flavour_from_labels",
]

ENGINE_LABELS = ("llm-d.ai/engine-type", "inference.networking.k8s.io/engine-type")


class Flavour(StrEnum):
    VLLM = "vllm"
    SGLANG = "sglang"
    TRTLLM = "trtllm"


# Label values upstream uses for each engine, and our own names.
_ENGINE_NAMES = {
    "vllm": Flavour.VLLM,
    "sglang": Flavour.SGLANG,
    "trtllm": Flavour.TRTLLM,
    "triton-tensorrt-llm": Flavour.TRTLLM,
}
# Prefixes that only one flavour's page has, at the start of a sample line.
_PAGE_MARKS = (
    ("vllm:", Flavour.VLLM),
    ("sglang:", Flavour.SGLANG),
    ("nv_trt_llm_", Flavour.TRTLLM),
)

SIGNALS = (
    "queue",
    "running",
    "kv_usage",
    "lora",
    "cache_info",
    "block_size",
    "num_blocks",
    "prefix_hits",
    "prefix_queries",
)
OPTIONAL_SIGNALS = frozenset(SIGNALS) - {"queue", "kv_usage"}


def _specs(*texts: str) -> tuple[MetricSpec, ...]:
    return tuple(parse_spec(text) for text in texts)


@dataclass(frozen=True)
class SignalSpecs:
    """The specs of each signal; alternatives in order, the first with a series wins.

    ``cache_info`` is an info-style gauge whose labels carry the block size and count;
    ``block_size``/``num_blocks`` are plain gauges (TensorRT-LLM). An empty tuple means
    the signal is not read.
    """

    queue: tuple[MetricSpec, ...]
    kv_usage: tuple[MetricSpec, ...]
    running: tuple[MetricSpec, ...] = ()
    lora: tuple[MetricSpec, ...] = ()
    cache_info: tuple[MetricSpec, ...] = ()
    block_size_label: str = "block_size"
    num_blocks_label: str = "num_gpu_blocks"
    block_size: tuple[MetricSpec, ...] = ()
    num_blocks: tuple[MetricSpec, ...] = ()
    prefix_hits: tuple[MetricSpec, ...] = ()
    prefix_queries: tuple[MetricSpec, ...] = ()

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Every metric name the page must be searched for."""
        specs = [spec for signal in SIGNALS for spec in getattr(self, signal)]
        return tuple(dict.fromkeys(spec.name for spec in specs))

    def with_overrides(self, overrides: Mapping[str, MetricSpec | None]) -> SignalSpecs:
        """A copy where each overridden signal reads only the given spec (None: not read)."""
        unknown = set(overrides) - set(SIGNALS)
        if unknown:
            raise ValueError(f"unknown signals {sorted(unknown)}")
        changes = {
            signal: (spec,) if spec is not None else () for signal, spec in overrides.items()
        }
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


BUILTIN_SPECS: Mapping[Flavour, SignalSpecs] = {
    Flavour.VLLM: SignalSpecs(
        queue=_specs("vllm:num_requests_waiting"),
        running=_specs("vllm:num_requests_running"),
        kv_usage=_specs("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
        lora=_specs("vllm:lora_requests_info"),
        cache_info=_specs("vllm:cache_config_info"),
        prefix_hits=_specs("vllm:prefix_cache_hits_total", "vllm:gpu_prefix_cache_hits_total"),
        prefix_queries=_specs(
            "vllm:prefix_cache_queries_total", "vllm:gpu_prefix_cache_queries_total"
        ),
    ),
    Flavour.SGLANG: SignalSpecs(
        queue=_specs("sglang:num_queue_reqs"),
        running=_specs("sglang:num_running_reqs"),
        kv_usage=_specs("sglang:token_usage"),
        cache_info=_specs("sglang:cache_config_info"),
        block_size_label="page_size",
        num_blocks_label="num_pages",
    ),
    Flavour.TRTLLM: SignalSpecs(
        queue=_specs("nv_trt_llm_request_metrics{request_type=waiting}"),
        running=_specs("nv_trt_llm_request_metrics{request_type=scheduled}"),
        kv_usage=_specs("nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=fraction}"),
        block_size=_specs("nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=tokens_per}"),
        num_blocks=_specs("nv_trt_llm_kv_cache_block_metrics{kv_cache_block_type=max}"),
    ),
}


def flavour_from_labels(labels: Mapping[str, str]) -> Flavour | None:
    """The flavour an endpoint's engine-type label names; None when unlabelled.

    Raises ``ValueError`` for a label value that names no supported engine.
    """
    for key in ENGINE_LABELS:
        value = labels.get(key)
        if value is not None:
            flavour = _ENGINE_NAMES.get(value.strip().lower())
            if flavour is None:
                raise ValueError(f"unsupported engine type {value!r} in label {key}")
            return flavour
    return None


def detect_flavour(page: str) -> Flavour | None:
    """Recognise the model server from its metric names; None when none is known."""
    for prefix, flavour in _PAGE_MARKS:
        if page.startswith(prefix) or ("\n" + prefix) in page:
            return flavour
    return None
