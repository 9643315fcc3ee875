"""The collector's page reader against prometheus-client's parser, per page.

Pages: the simulator's page of each flavour (small), and a realistic vLLM page rendered
by prometheus-client itself with vLLM V1's families (histograms with vLLM's buckets,
``_created`` series, process and GC metrics, three LoRA series): about 30 KB, like a
real server's. For each page:

* ``prometheus-client``: ``text_string_to_metric_families`` over the whole page (what a
  general parser must do before one value can be read);
* ``gie cold``: a fresh reader (no line cache), as on the first scrape;
* ``gie changing``: one reader, the queue length differs on every scrape (line cache
  warm for the unchanged lines);
* ``gie unchanged``: the same page again (an idle server).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gie_metrics_collector.signals import BUILTIN_SPECS, Flavour, SignalReader
from gie_sim import EngineSnapshot, EngineStats, SimConfig, render_metrics

__all__ = ["parser_speeds", "realistic_vllm_page"]

_LATENCY = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960]
_TTFT = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
_ITL = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
_TOKENS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000]


def realistic_vllm_page(waiting: int = 3) -> bytes:
    """A vLLM V1-like ``/metrics`` page, rendered by prometheus-client."""
    registry = CollectorRegistry()
    labels = {"model_name": "meta-llama/Llama-3.1-8B-Instruct", "engine": "0"}
    names = list(labels)
    for name, value in (
        ("vllm:num_requests_running", 12),
        ("vllm:num_requests_waiting", waiting),
        ("vllm:kv_cache_usage_perc", 0.42),
        ("vllm:gpu_cache_usage_perc", 0.42),
    ):
        Gauge(name, name, names, registry=registry).labels(**labels).set(value)
    info = Gauge(
        "vllm:cache_config_info",
        "cache config",
        [
            "block_size",
            "num_gpu_blocks",
            "cache_dtype",
            "enable_prefix_caching",
            "gpu_memory_utilization",
        ],
        registry=registry,
    )
    info.labels("16", "26000", "auto", "True", "0.9").set(1)
    lora = Gauge(
        "vllm:lora_requests_info",
        "lora",
        ["max_lora", "running_lora_adapters", "waiting_lora_adapters"],
        registry=registry,
    )
    for stamp, running in enumerate(("sql", "sql,chat", "chat")):
        lora.labels("4", running, "").set(1.7e9 + stamp)
    for name in ("prefix_cache_queries", "prefix_cache_hits", "prompt_tokens", "generation_tokens"):
        Counter(f"vllm:{name}", name, names, registry=registry).labels(**labels).inc(12345)
    success = Counter("vllm:request_success", "ok", [*names, "finished_reason"], registry=registry)
    for reason in ("stop", "length", "abort"):
        success.labels(*labels.values(), reason).inc(7)
    for name, buckets in (
        ("time_to_first_token_seconds", _TTFT),
        ("inter_token_latency_seconds", _ITL),
        ("e2e_request_latency_seconds", _LATENCY),
        ("request_queue_time_seconds", _LATENCY),
        ("request_inference_time_seconds", _LATENCY),
        ("request_prefill_time_seconds", _LATENCY),
        ("request_decode_time_seconds", _LATENCY),
        ("request_prompt_tokens", _TOKENS),
        ("request_generation_tokens", _TOKENS),
        ("request_params_max_tokens", _TOKENS),
        ("iteration_tokens_total", _TOKENS),
    ):
        histogram = Histogram(f"vllm:{name}", name, names, buckets=buckets, registry=registry)
        for value in (0.02, 0.3, 4.0, 90.0):
            histogram.labels(**labels).observe(value)
    return generate_latest(registry) + generate_latest()  # plus process and GC metrics


def _time_per_call(fn: Callable[[], object], budget_s: float = 0.5) -> float:
    """Seconds per call, from enough calls to fill ``budget_s``."""
    calls, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < budget_s:
        for _ in range(20):
            fn()
        calls += 20
    return elapsed / calls


def _prometheus_client(body: bytes) -> None:
    for family in text_string_to_metric_families(body.decode()):
        for _ in family.samples:
            pass


def _measure(label: str, flavour: Flavour, body: bytes, other: bytes) -> dict[str, float | str]:
    reader = SignalReader(BUILTIN_SPECS, pinned=flavour)
    flip = [body, other]

    def changing() -> None:
        flip.reverse()
        reader.read(flip[0], None)

    def cold() -> None:
        SignalReader(BUILTIN_SPECS, pinned=flavour).read(body, None)

    return {
        "page": label,
        "bytes": len(body),
        "prometheus_client_us": _time_per_call(lambda: _prometheus_client(body)) * 1e6,
        "gie_cold_us": _time_per_call(cold) * 1e6,
        "gie_changing_us": _time_per_call(changing) * 1e6,
        "gie_unchanged_us": _time_per_call(lambda: reader.read(body, None)) * 1e6,
    }


def _sim_page(flavour: Flavour, waiting: int) -> bytes:
    config = SimConfig.model_validate({"flavour": flavour.value})
    stats = EngineStats(prefix_cache_queries=9000, prefix_cache_hits=4000)
    return render_metrics(config, EngineSnapshot(12, waiting, 0.42, stats)).encode()


def parser_speeds() -> list[dict[str, float | str]]:
    """One row per page: microseconds per page for each reader."""
    rows = [
        _measure("vllm, realistic", Flavour.VLLM, realistic_vllm_page(3), realistic_vllm_page(4))
    ]
    for flavour in Flavour:
        body, other = _sim_page(flavour, 3), _sim_page(flavour, 4)
        rows.append(_measure(f"{flavour.value}, simulator", flavour, body, other))
    return rows
