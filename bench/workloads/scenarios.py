"""The named scenarios: a workload generator at full and quick size, and default load.

Rates are requests per second offered to the router, in *real* seconds; the simulated
servers run with the scenario's ``time_scale`` (simulated durations are multiplied by
it), chosen so that the default sweep crosses the round-robin baseline's saturation
point while the machine's two cores stay below saturation. ``--quick`` sizes are for
the smoke run: a handful of requests that prove the harness works, nothing more.
A scenario may also give its own simulator flags (``sim_args``, ``quick_sim_args``: a
small KV cache, KV events on) and its own default arms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bench.errors import ScenarioError
from bench.workloads.kv_pressure import KvPressure
from bench.workloads.long_prompt import LongPrompt
from bench.workloads.lora_mix import LoraMix
from bench.workloads.mixed import Mixed
from bench.workloads.model import Workload
from bench.workloads.multi_turn_chat import MultiTurnChat
from bench.workloads.shared_prefix import SharedPrefix

__all__ = ["SCENARIOS", "Scenario", "WorkloadGenerator", "get_scenario"]


class WorkloadGenerator(Protocol):
    """Builds a workload; MUST be deterministic in ``seed`` (same seed, same requests)."""

    def generate(self, *, seed: int, model: str) -> Workload: ...


@dataclass(frozen=True, kw_only=True)
class Scenario:
    name: str
    summary: str
    full: WorkloadGenerator
    quick: WorkloadGenerator
    rates: tuple[float, ...]  # default sweep, requests/s
    quick_rate: float
    time_scale: float = 1.0
    sims: int = 4
    sim_args: tuple[str, ...] = ()  # gie-sim flags of every run
    quick_sim_args: tuple[str, ...] | None = None  # with --quick (None: sim_args)
    arms: tuple[str, ...] | None = None  # default arms (None: the benchmark's)


_KV_EVENTS = ("--kv-events-port", "0", "--kv-events-replay-port", "0")


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            name="shared-prefix",
            summary="groups sharing a long system prompt (prefix-cache affinity)",
            full=SharedPrefix(),
            quick=SharedPrefix(
                groups=4, prompts_per_group=4, system_prompt_tokens=1000, output_tokens=16
            ),
            rates=(4.0, 8.0, 12.0, 16.0),
            quick_rate=8.0,
            time_scale=4.0,
        ),
        Scenario(
            name="kv-pressure",
            summary="shared prefixes, KV caches far below the working set, and a second "
            "client reaching the servers directly (approximate vs precise prefix routing)",
            full=KvPressure(),
            quick=KvPressure(
                groups=4,
                prompts_per_group=4,
                system_prompt_tokens=400,
                question_tokens=16,
                output_tokens=8,
                side_per_group=1,
                side_one_off=4,
            ),
            rates=(4.0, 8.0),
            quick_rate=8.0,
            time_scale=2.0,
            # 640 blocks of 16 tokens: five 2,048-token prompts per server; quick: three
            # of 416 tokens.
            sim_args=("--num-gpu-blocks", "640", *_KV_EVENTS),
            quick_sim_args=("--num-gpu-blocks", "80", *_KV_EVENTS),
            arms=(
                "gie-approx",
                "gie-precise",
                "sglang-router-cache-aware",
                "round-robin",
                "oracle",
            ),
        ),
        Scenario(
            name="multi-turn-chat",
            summary="chat sessions whose context grows turn by turn",
            full=MultiTurnChat(),
            quick=MultiTurnChat(sessions=4, turns=3, reply_tokens=16),
            rates=(4.0, 8.0, 12.0),
            quick_rate=8.0,
        ),
        Scenario(
            name="long-prompt",
            summary="questions about ~200 KB documents",
            full=LongPrompt(),
            quick=LongPrompt(documents=2, questions_per_document=2, output_tokens=8),
            rates=(0.5, 1.0, 2.0),
            quick_rate=2.0,
            time_scale=0.2,
        ),
        Scenario(
            name="mixed",
            summary="ShareGPT-like single-turn chats",
            full=Mixed(),
            quick=Mixed(requests=16, output_median_tokens=16.0, max_output_tokens=32),
            rates=(4.0, 8.0, 12.0),
            quick_rate=8.0,
        ),
        Scenario(
            name="lora-mix",
            summary="requests for several LoRA adapters (needs LoRA in the simulator)",
            full=LoraMix(),
            quick=LoraMix(requests=16, output_tokens=16),
            rates=(4.0, 8.0, 12.0),
            quick_rate=8.0,
        ),
    )
}


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        known = ", ".join(SCENARIOS)
        raise ScenarioError(f"unknown scenario {name!r}; known: {known}") from None
