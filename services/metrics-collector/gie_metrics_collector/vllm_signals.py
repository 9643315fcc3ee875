"""Map a vLLM metrics page to :class:`EndpointMetrics`."""

from __future__ import annotations

from gie.events import EndpointMetrics
from gie_metrics_collector.prom_text import MetricsPageError, Sample, parse_samples

WAITING = "vllm:num_requests_waiting"
RUNNING = "vllm:num_requests_running"
KV_USAGE = "vllm:kv_cache_usage_perc"
KV_USAGE_OLD = "vllm:gpu_cache_usage_perc"
CACHE_CONFIG = "vllm:cache_config_info"
PREFIX_HITS = "vllm:prefix_cache_hits_total"
PREFIX_QUERIES = "vllm:prefix_cache_queries_total"

WANTED = frozenset(
    {WAITING, RUNNING, KV_USAGE, KV_USAGE_OLD, CACHE_CONFIG, PREFIX_HITS, PREFIX_QUERIES}
)


def _sum(samples: list[Sample], name: str) -> float | None:
    values = [s.value for s in samples if s.name == name]
    return sum(values) if values else None


def _int_label(samples: list[Sample], label: str) -> int | None:
    for sample in samples:
        if sample.name == CACHE_CONFIG and label in sample.labels:
            try:
                return int(sample.labels[label]) or None
            except ValueError:
                return None
    return None


def metrics_from_page(page: str) -> EndpointMetrics:
    """Extract the load signals; raise :class:`MetricsPageError` if required ones are missing."""
    samples = parse_samples(page, WANTED)
    waiting = _sum(samples, WAITING)
    running = _sum(samples, RUNNING)
    usage = _sum(samples, KV_USAGE)
    if usage is None:
        usage = _sum(samples, KV_USAGE_OLD)
    missing = [
        name
        for name, value in ((WAITING, waiting), (RUNNING, running), (KV_USAGE, usage))
        if value is None
    ]
    if missing:
        raise MetricsPageError(f"metrics page lacks {', '.join(missing)}")
    assert waiting is not None and running is not None and usage is not None
    return EndpointMetrics(
        waiting_queue_size=max(0, int(waiting)),
        running_requests=max(0, int(running)),
        kv_cache_usage=min(1.0, max(0.0, usage)),
        kv_block_size=_int_label(samples, "block_size"),
        kv_num_blocks=_int_label(samples, "num_gpu_blocks"),
        prefix_cache_hits=_sum(samples, PREFIX_HITS),
        prefix_cache_queries=_sum(samples, PREFIX_QUERIES),
    )
