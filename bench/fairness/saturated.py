"""The saturated phase of one mode: two tenants, one at 10x the other's rate.

A fresh ``gie_sim`` process (few servers, small ``--max-num-seqs``, slowed down so the
pool saturates at a modest rate) and a fresh stack in front of it. The load runs
``saturated_s``; then the light tenant's last requests get up to ``drain_s`` to finish.
Fairness and TTFT come from the whole run; served requests per second from a window
common to both modes (``[throughput_warmup_s, saturated_s)``), because the modes are cut
off at different times (with flow control the light tenant finishes early).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from bench.fairness.load import Outcome, TenantLoad, run_load
from bench.fairness.metrics import (
    Sample,
    jain_index,
    percentile,
    rate_within,
    served_while_backlogged,
    shares,
)
from bench.fairness.replicas import flow_controller_stats
from bench.fairness.scenario import (
    HEAVY,
    INPUT_WEIGHT,
    LIGHT,
    MODEL,
    OUTPUT_WEIGHT,
    FairnessOptions,
    stack_options,
)
from bench.fairness.sims import start_sims, stop_sims
from gie.tokens import CHARS_PER_TOKEN
from gie_cli.devstack import start_stack

__all__ = ["run_saturated", "summarise_saturated"]

Progress = Callable[[str], None]


def _samples(outcomes: list[Outcome], options: FairnessOptions) -> list[Sample]:
    nominal_in = options.prompt_chars // CHARS_PER_TOKEN
    samples = []
    for o in outcomes:
        tokens_in = o.prompt_tokens or nominal_in
        tokens_out = o.output_tokens or options.max_tokens
        weight = INPUT_WEIGHT * tokens_in + OUTPUT_WEIGHT * tokens_out
        samples.append(
            Sample(
                tenant=o.tenant,
                sent_at=o.sent_at,
                first_token_at=o.first_token_at,
                weighted_tokens=weight,
            )
        )
    return samples


def _ttfts(outcomes: list[Outcome], tenant: str, cutoff: float) -> tuple[list[float], int]:
    """TTFTs of ``tenant``; a request without a first token counts its wait until cut-off
    (a lower bound). Also returns how many were censored like that."""
    values, censored = [], 0
    for o in outcomes:
        if o.tenant != tenant:
            continue
        if o.first_token_at is not None:
            values.append(o.first_token_at - o.sent_at)
        elif o.error is None or o.status is None:
            values.append(cutoff - o.sent_at)
            censored += 1
    return values, censored


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)


def _throughput(outcomes: list[Outcome], options: FairnessOptions) -> dict[str, Any]:
    start, end = options.throughput_warmup_s, options.saturated_s
    return {
        "window_s": [start, end],
        "first_tokens_per_s": round(
            rate_within((o.first_token_at for o in outcomes), start=start, end=end), 3
        ),
        "completed_per_s": round(
            rate_within((o.finished_at for o in outcomes if o.ok), start=start, end=end), 3
        ),
    }


def summarise_saturated(
    outcomes: list[Outcome], cutoff: float, options: FairnessOptions
) -> dict[str, Any]:
    samples = _samples(outcomes, options)
    served = served_while_backlogged(samples, (LIGHT, HEAVY), end=cutoff)
    light_ttft, censored = _ttfts(outcomes, LIGHT, cutoff)
    heavy_ttft, _ = _ttfts(outcomes, HEAVY, cutoff)
    per_tenant: dict[str, dict[str, Any]] = {}
    for tenant in (LIGHT, HEAVY):
        mine = [o for o in outcomes if o.tenant == tenant]
        per_tenant[tenant] = {
            "sent": len(mine),
            "completed": sum(o.ok for o in mine),
            "first_token": sum(o.first_token_at is not None for o in mine),
            "http_errors": sum(o.status not in (None, 200) for o in mine),
        }
    return {
        "jain_index": round(jain_index(served.values()), 4),
        "served_weighted_tokens_while_backlogged": served,
        "shares_while_backlogged": {k: round(v, 4) for k, v in shares(served).items()},
        "light_ttft_p50_s": _finite(percentile(light_ttft, 50)),
        "light_ttft_p99_s": _finite(percentile(light_ttft, 99)),
        "light_ttft_censored": censored,
        "heavy_ttft_p99_s": _finite(percentile(heavy_ttft, 99)),
        "cutoff_s": round(cutoff, 2),
        "throughput": _throughput(outcomes, options),
        "tenants": per_tenant,
    }


async def run_saturated(mode: str, options: FairnessOptions, progress: Progress) -> dict[str, Any]:
    """One mode (``flow_control`` or ``no_flow_control``) under the two-tenant load."""
    directory = options.work_dir / mode
    sims, servers = await start_sims(
        directory,
        count=options.sims,
        model=MODEL,
        time_scale=options.time_scale,
        max_num_seqs=options.max_num_seqs,
    )
    try:
        stack = await start_stack(
            stack_options(
                directory, servers=servers, flow_control=mode == "flow_control", options=options
            )
        )
        try:
            light_rate = options.light_rate
            heavy_rate = light_rate * options.heavy_factor
            progress(
                f"[{mode}] saturated: light {light_rate:g} req/s, heavy {heavy_rate:g} req/s "
                f"for {options.saturated_s:g}s"
            )
            outcomes, cutoff = await run_load(
                stack.gateway,
                [
                    TenantLoad(
                        name=HEAVY, rate=heavy_rate, count=round(heavy_rate * options.saturated_s)
                    ),
                    TenantLoad(
                        name=LIGHT, rate=light_rate, count=round(light_rate * options.saturated_s)
                    ),
                ],
                model=MODEL,
                prompt_chars=options.prompt_chars,
                max_tokens=options.max_tokens,
                seed=options.seed,
                drain_s=options.drain_s,
                drain_tenant=LIGHT,
            )
            replicas = await flow_controller_stats(stack)
        finally:
            await stack.stop()
    finally:
        stop_sims(sims)
    summary = summarise_saturated(outcomes, cutoff, options)
    summary["flow_controllers"] = replicas
    progress(
        f"[{mode}] jain {summary['jain_index']}, light TTFT p99 {summary['light_ttft_p99_s']}s, "
        f"{summary['throughput']['completed_per_s']} completed/s"
    )
    return summary
