"""The ``/metrics`` page of a simulated server, in the configured model server's flavour.

``vllm`` (vLLM V1 names), ``sglang`` (``sglang:`` names) or ``trtllm`` (Triton with the
TensorRT-LLM backend, ``nv_trt_llm_*``). Each page is a pure function of an
:class:`~gie_sim.engine.EngineSnapshot` and the server's LoRA series.
"""

from __future__ import annotations

from collections.abc import Sequence

from gie_sim.config import SimConfig
from gie_sim.engine import EngineSnapshot
from gie_sim.overrides import LoraInfo
from gie_sim.page_sglang import sglang_families
from gie_sim.page_trtllm import trtllm_families
from gie_sim.page_vllm import vllm_families
from gie_sim.prom_format import CONTENT_TYPE, render_families

__all__ = ["CONTENT_TYPE", "render_metrics"]


def render_metrics(config: SimConfig, snap: EngineSnapshot, lora: Sequence[LoraInfo] = ()) -> str:
    """The ``/metrics`` page of one server (LoRA series only exist in the vLLM flavour)."""
    if config.flavour == "sglang":
        return render_families(sglang_families(config, snap))
    if config.flavour == "trtllm":
        return render_families(trtllm_families(config, snap))
    return render_families(vllm_families(config, snap, lora))
