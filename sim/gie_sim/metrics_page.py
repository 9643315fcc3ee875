"""The ``/metrics`` page of a simulated server, in the configured model server's flavour.

``vllm`` (vLLM V1 names), ``sglang`` (``sglang:`` names) or ``trtllm`` (Triton with the
TensorRT-LLM backend, ``nv_trt_llm_*``). Each page is a pure function of an
:class:`~gie_sim.engine.EngineSnapshot` and the server's LoRA series.

Model servers label their series with one model name (vLLM: the first served name);
the simulator adds ``gie_sim_requests_total{model_name}``, the requests accepted per
served name, so a split between the names a server answers to can be seen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gie_sim.config import SimConfig
from gie_sim.engine import EngineSnapshot
from gie_sim.overrides import LoraInfo
from gie_sim.page_sglang import sglang_families
from gie_sim.page_trtllm import trtllm_families
from gie_sim.page_vllm import vllm_families
from gie_sim.prom_format import CONTENT_TYPE, Family, render_families

__all__ = ["CONTENT_TYPE", "render_metrics"]


def render_metrics(
    config: SimConfig,
    snap: EngineSnapshot,
    lora: Sequence[LoraInfo] = (),
    requests_by_model: Mapping[str, int] | None = None,
    api_faults: Mapping[str, int] | None = None,
) -> str:
    """The ``/metrics`` page of one server (LoRA series only exist in the vLLM flavour).

    ``requests_by_model`` (requests accepted per served name) adds the simulator's own
    ``gie_sim_requests_total`` family, with a sample for every served name;
    ``api_faults`` (mode -> count) the ``gie_sim_api_faults_total`` family.
    """
    if config.flavour == "sglang":
        families = sglang_families(config, snap)
    elif config.flavour == "trtllm":
        families = trtllm_families(config, snap)
    else:
        families = vllm_families(config, snap, lora)
    if requests_by_model is not None:
        families.append(
            Family(
                "gie_sim_requests_total",
                "counter",
                "Requests accepted, by the served model name they gave (simulator only).",
                tuple(
                    ({"model_name": name}, requests_by_model.get(name, 0))
                    for name in config.served_models
                ),
            )
        )
    if api_faults is not None:
        families.append(
            Family(
                "gie_sim_api_faults_total",
                "counter",
                "Requests an OpenAI API fault mode broke, by mode (refuse: open connections "
                "reset when refusing began; simulator only).",
                tuple(({"mode": mode}, count) for mode, count in sorted(api_faults.items())),
            )
        )
    return render_families(families)
