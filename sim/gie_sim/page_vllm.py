"""vLLM's ``/metrics`` page (the V1 engine's metric names)."""

from __future__ import annotations

from collections.abc import Sequence

from gie_sim.config import SimConfig
from gie_sim.engine import EngineSnapshot
from gie_sim.overrides import LoraInfo
from gie_sim.prom_format import Family

__all__ = ["vllm_families"]


def vllm_families(
    config: SimConfig, snap: EngineSnapshot, lora: Sequence[LoraInfo]
) -> list[Family]:
    base = {"model_name": config.served_models[0]}  # as vLLM: the first name
    cache_info = {
        **base,
        "block_size": str(config.block_size),
        "num_gpu_blocks": str(config.num_gpu_blocks),
        "enable_prefix_caching": "True",
        "cache_dtype": "auto",
    }
    stats = snap.stats
    families = [
        Family(
            "vllm:num_requests_running",
            "gauge",
            "Number of requests in model execution batches.",
            ((base, snap.num_running),),
        ),
        Family(
            "vllm:num_requests_waiting",
            "gauge",
            "Number of requests waiting to be processed.",
            ((base, snap.num_waiting),),
        ),
        Family(
            "vllm:kv_cache_usage_perc",
            "gauge",
            "KV-cache usage. 1 means 100 percent usage.",
            ((base, snap.kv_cache_usage),),
        ),
        Family(
            "vllm:gpu_cache_usage_perc",
            "gauge",
            "Deprecated alias of vllm:kv_cache_usage_perc.",
            ((base, snap.kv_cache_usage),),
        ),
        Family(
            "vllm:cache_config_info",
            "gauge",
            "Information of the LLMEngine CacheConfig.",
            ((cache_info, 1),),
        ),
        Family(
            "vllm:prefix_cache_queries_total",
            "counter",
            "Prefix-cache queries, in tokens.",
            ((base, stats.prefix_cache_queries),),
        ),
        Family(
            "vllm:prefix_cache_hits_total",
            "counter",
            "Prefix-cache hits, in tokens.",
            ((base, stats.prefix_cache_hits),),
        ),
        Family(
            "vllm:prompt_tokens_total",
            "counter",
            "Number of prefill tokens processed.",
            ((base, stats.prompt_tokens),),
        ),
        Family(
            "vllm:generation_tokens_total",
            "counter",
            "Number of generation tokens processed.",
            ((base, stats.generation_tokens),),
        ),
        Family(
            "vllm:request_success_total",
            "counter",
            "Count of successfully processed requests.",
            (({**base, "finished_reason": "length"}, stats.request_success),),
        ),
    ]
    if lora:
        families.append(
            Family(
                "vllm:lora_requests_info",
                "gauge",
                "Running stats on lora requests.",
                tuple((info.labels(), info.timestamp) for info in lora),
            )
        )
    return families
