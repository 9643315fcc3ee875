"""Hand-rendered Prometheus text exposition with vLLM's metric names.

Rendering by hand (instead of a prometheus-client registry per server) keeps scrapes cheap
and makes the page a pure function of an :class:`~gie_sim.engine.EngineSnapshot`.
"""

from __future__ import annotations

from gie_sim.config import SimConfig
from gie_sim.engine import EngineSnapshot

__all__ = ["CONTENT_TYPE", "render_metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, str]) -> str:
    inner = ",".join(f'{key}="{_escape(value)}"' for key, value in sorted(labels.items()))
    return "{" + inner + "}"


_HELP = {
    "vllm:num_requests_running": "Number of requests in model execution batches.",
    "vllm:num_requests_waiting": "Number of requests waiting to be processed.",
    "vllm:kv_cache_usage_perc": "KV-cache usage. 1 means 100 percent usage.",
    "vllm:gpu_cache_usage_perc": "Deprecated alias of vllm:kv_cache_usage_perc.",
    "vllm:cache_config_info": "Information of the LLMEngine CacheConfig.",
    "vllm:prefix_cache_queries_total": "Prefix-cache queries, in tokens.",
    "vllm:prefix_cache_hits_total": "Prefix-cache hits, in tokens.",
    "vllm:prompt_tokens_total": "Number of prefill tokens processed.",
    "vllm:generation_tokens_total": "Number of generation tokens processed.",
    "vllm:request_success_total": "Count of successfully processed requests.",
}


def render_metrics(config: SimConfig, snap: EngineSnapshot) -> str:
    """The ``/metrics`` page of one server."""
    base = {"model_name": config.model}
    cache_info = {
        **base,
        "block_size": str(config.block_size),
        "num_gpu_blocks": str(config.num_gpu_blocks),
        "enable_prefix_caching": "True",
        "cache_dtype": "auto",
    }
    stats = snap.stats
    samples: list[tuple[str, str, dict[str, str], float]] = [
        ("vllm:num_requests_running", "gauge", base, snap.num_running),
        ("vllm:num_requests_waiting", "gauge", base, snap.num_waiting),
        ("vllm:kv_cache_usage_perc", "gauge", base, snap.kv_cache_usage),
        ("vllm:gpu_cache_usage_perc", "gauge", base, snap.kv_cache_usage),
        ("vllm:cache_config_info", "gauge", cache_info, 1),
        ("vllm:prefix_cache_queries_total", "counter", base, stats.prefix_cache_queries),
        ("vllm:prefix_cache_hits_total", "counter", base, stats.prefix_cache_hits),
        ("vllm:prompt_tokens_total", "counter", base, stats.prompt_tokens),
        ("vllm:generation_tokens_total", "counter", base, stats.generation_tokens),
        (
            "vllm:request_success_total",
            "counter",
            {**base, "finished_reason": "length"},
            stats.request_success,
        ),
    ]
    lines: list[str] = []
    for name, kind, labels, value in samples:
        lines.append(f"# HELP {name} {_HELP[name]}")
        lines.append(f"# TYPE {name} {kind}")
        lines.append(f"{name}{_labels(labels)} {float(value)!r}")
    lines.append("")
    return "\n".join(lines)
