"""The named scenarios: a workload generator at full and quick size, and default load.

Rates are requests per second offered to the router, in *real* seconds; the simulated
servers run with the scenario's ``time_scale`` (simulated durations are multiplied by
it), chosen so that the default sweep crosses the round-robin baseline's saturation
point while the machine's two cores stay below saturation. ``--quick`` sizes are for
the smoke run: a handful of requests that prove the harness works, nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bench.errors import ScenarioError
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
