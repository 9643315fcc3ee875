"""SGLang's ``/metrics`` page (``sglang:`` names, ``--enable-metrics``)."""

from __future__ import annotations

from gie_sim.config import SimConfig
from gie_sim.engine import EngineSnapshot
from gie_sim.prom_format import Family

__all__ = ["sglang_families"]


def sglang_families(config: SimConfig, snap: EngineSnapshot) -> list[Family]:
    base = {"model_name": config.served_models[0]}  # as vLLM: the first name
    stats = snap.stats
    total_tokens = config.num_gpu_blocks * config.block_size
    queries = stats.prefix_cache_queries
    hit_rate = stats.prefix_cache_hits / queries if queries else 0.0
    cache_info = {
        **base,
        "page_size": str(config.block_size),
        "num_pages": str(config.num_gpu_blocks),
    }
    return [
        Family(
            "sglang:num_running_reqs",
            "gauge",
            "The number of running requests.",
            ((base, snap.num_running),),
        ),
        Family(
            "sglang:num_used_tokens",
            "gauge",
            "The number of used tokens.",
            ((base, round(snap.kv_cache_usage * total_tokens)),),
        ),
        Family("sglang:token_usage", "gauge", "The token usage.", ((base, snap.kv_cache_usage),)),
        Family(
            "sglang:num_queue_reqs",
            "gauge",
            "The number of requests in the waiting queue.",
            ((base, snap.num_waiting),),
        ),
        Family("sglang:cache_hit_rate", "gauge", "The prefix cache hit rate.", ((base, hit_rate),)),
        Family(
            "sglang:cache_config_info",
            "gauge",
            "Information of the KV cache configuration.",
            ((cache_info, 1),),
        ),
        Family(
            "sglang:prompt_tokens_total",
            "counter",
            "Number of prefill tokens processed.",
            ((base, stats.prompt_tokens),),
        ),
        Family(
            "sglang:generation_tokens_total",
            "counter",
            "Number of generation tokens processed.",
            ((base, stats.generation_tokens),),
        ),
        Family(
            "sglang:num_requests_total",
            "counter",
            "Number of requests processed.",
            ((base, stats.request_success),),
        ),
    ]
