"""What each flow-controller replica of a running stack did, read from its ``/metrics``.

Shows that every replica took part: the Admit calls it answered (a call its caller gave
up on is not counted), the outcomes it decided (its shards' dispatches and evictions,
its rejections) and the shards it holds.
"""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from gie_cli.devstack import RunningStack

__all__ = ["flow_controller_parts", "flow_controller_stats"]

FLOW_CONTROLLER = "flow-controller"
_CALLS = "inference_extension_flow_control_request_queue_duration_seconds"
_OUTCOMES = "gie_flow_control_outcomes"  # the parser drops the counter's _total
_OWNED = "gie_flow_control_owned_shards"


def flow_controller_parts(stack: RunningStack) -> dict[str, str]:
    """Replica part name -> its admin URL."""
    return {
        part.name: part.addresses["admin"]
        for part in stack.state.parts
        if part.name == FLOW_CONTROLLER or part.name.startswith(f"{FLOW_CONTROLLER}-")
    }


def _summarise(page: str) -> dict[str, Any]:
    calls, owned = 0.0, 0.0
    outcomes: dict[str, float] = {}
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            if family.name == _CALLS and sample.name == f"{_CALLS}_count":
                calls += sample.value
            elif family.name == _OUTCOMES and sample.name == f"{_OUTCOMES}_total":
                outcome = sample.labels.get("outcome", "")
                outcomes[outcome] = outcomes.get(outcome, 0.0) + sample.value
            elif family.name == _OWNED:
                owned = sample.value
    return {
        "admit_answered": int(calls),
        "outcomes_decided": {name: int(count) for name, count in sorted(outcomes.items())},
        "owned_shards": int(owned),
    }


async def flow_controller_stats(stack: RunningStack) -> dict[str, dict[str, Any]]:
    """Per replica: Admit calls answered, outcomes decided, shards held (so far)."""
    stats = {}
    async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client:
        for name, admin in flow_controller_parts(stack).items():
            stats[name] = _summarise((await client.get(f"{admin}/metrics")).text)
    return stats
