"""Triton Inference Server's ``/metrics`` page with the TensorRT-LLM backend."""

from __future__ import annotations

from gie_sim.config import SimConfig
from gie_sim.engine import EngineSnapshot
from gie_sim.prom_format import Family

__all__ = ["trtllm_families"]


def trtllm_families(config: SimConfig, snap: EngineSnapshot) -> list[Family]:
    model = {"model": "tensorrt_llm", "version": "1"}
    used = round(snap.kv_cache_usage * config.num_gpu_blocks)

    def request(kind: str, value: float) -> tuple[dict[str, str], float]:
        return {**model, "request_type": kind}, value

    def blocks(kind: str, value: float) -> tuple[dict[str, str], float]:
        return {**model, "kv_cache_block_type": kind}, value

    return [
        Family(
            "nv_trt_llm_request_metrics",
            "gauge",
            "TRT LLM request metrics",
            (
                request("active", snap.num_running + snap.num_waiting),
                request("max", config.max_num_seqs),
                request("scheduled", snap.num_running),
                request("waiting", snap.num_waiting),
            ),
        ),
        Family(
            "nv_trt_llm_kv_cache_block_metrics",
            "gauge",
            "TRT LLM KV cache block metrics",
            (
                blocks("max", config.num_gpu_blocks),
                blocks("free", config.num_gpu_blocks - used),
                blocks("used", used),
                blocks("tokens_per", config.block_size),
                blocks("fraction", snap.kv_cache_usage),
            ),
        ),
        Family(
            "nv_inference_request_success",
            "counter",
            "Number of successful inference requests, all batch sizes",
            (({"model": "ensemble", "version": "1"}, snap.stats.request_success),),
        ),
        Family(
            "nv_inference_pending_request_count",
            "gauge",
            "Instantaneous number of pending requests awaiting execution per-model.",
            (({"model": "ensemble", "version": "1"}, snap.num_waiting),),
        ),
    ]
