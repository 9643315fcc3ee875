"""Workloads: deterministic request sequences generated from a seed, and the scenarios.

One module per workload (``shared_prefix``, ``multi_turn_chat``, ``long_prompt``,
``mixed``, ``lora_mix``), each a frozen dataclass of parameters with
``generate(seed=..., model=...) -> Workload``; :mod:`~bench.workloads.scenarios` names
them with full and quick sizes and default rates. Pure: nothing here does I/O.
"""

from __future__ import annotations

from bench.workloads.model import CHAT, COMPLETIONS, BenchRequest, Workload
from bench.workloads.scenarios import SCENARIOS, Scenario, WorkloadGenerator, get_scenario

__all__ = [
    "CHAT",
    "COMPLETIONS",
    "SCENARIOS",
    "BenchRequest",
    "Scenario",
    "Workload",
    "WorkloadGenerator",
    "get_scenario",
]
