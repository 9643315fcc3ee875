"""The feature's CPU overhead while the pool is not saturated, measured in pairs.

Two stacks run side by side in front of the same fast simulated servers (no endpoint
ever queues): one with the ``flowControl`` gate, one without, otherwise identical (the
same picker and flow-controller replicas, the same Envoy). Each round sends the same
open-loop two-tenant load (same seed) through both stacks *at the same time* and takes
the CPU seconds of each stack's pickers, flow-controllers and Envoy over its run, so
both arms of a round share the machine's state (other work, frequency, caches). A
round's overhead is the ratio of CPU per completed request, minus one; over the rounds
it has a mean and a 95% confidence interval, which is the measurement's resolution.

Before their load, both stacks also idle a moment: the processes' CPU without requests
(following the event stream, heartbeats, leases) is reported per process, and the
*marginal* CPU per request (the load's CPU minus that idle rate over its duration) gets
an overhead and interval of its own.

The gated stack must never have called Admit (every request took the fast path): the
count is reported with the result.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

from bench.fairness.load import TenantLoad, run_load
from bench.fairness.metrics import mean_ci95
from bench.fairness.replicas import flow_controller_stats
from bench.fairness.scenario import (
    HEAVY,
    LIGHT,
    MODEL,
    FairnessOptions,
    cpu_groups,
    stack_options,
)
from bench.fairness.sims import start_sims, stop_sims
from bench.measure.cpu import take_snapshot
from gie_cli.devstack import RunningStack, start_stack

__all__ = ["run_overhead"]

Progress = Callable[[str], None]
ARMS = ("flow_control", "no_flow_control")


def _tenants(options: FairnessOptions, seconds: float) -> list[TenantLoad]:
    rate, share = options.overhead_rate, options.heavy_share
    return [
        TenantLoad(name=HEAVY, rate=rate * share, count=max(1, round(rate * share * seconds))),
        TenantLoad(
            name=LIGHT, rate=rate * (1 - share), count=max(1, round(rate * (1 - share) * seconds))
        ),
    ]


async def _load(
    stack: RunningStack, options: FairnessOptions, *, seconds: float, seed: int
) -> tuple[int, int]:
    """Send one round's load; return (sent, completed)."""
    outcomes, _ = await run_load(
        stack.gateway,
        _tenants(options, seconds),
        model=MODEL,
        prompt_chars=options.prompt_chars,
        max_tokens=options.max_tokens,
        seed=seed,
        drain_s=options.drain_s,
    )
    return len(outcomes), sum(o.ok for o in outcomes)


async def _idle(stack: RunningStack, seconds: float) -> dict[str, float]:
    """CPU seconds per second of each measured process while nothing is sent."""
    groups = cpu_groups(stack)
    before = take_snapshot(groups)
    await asyncio.sleep(seconds)
    cpu = take_snapshot(groups).since(before)
    return {name: used / cpu.wall for name, used in cpu.groups.items()}


async def _measure(stack: RunningStack, options: FairnessOptions, *, seed: int) -> dict[str, Any]:
    """One arm of a round: its idle CPU rate, then the load and the CPU it took."""
    idle = await _idle(stack, options.overhead_idle_s)
    groups = cpu_groups(stack)
    before = take_snapshot(groups)
    sent, completed = await _load(stack, options, seconds=options.overhead_window_s, seed=seed)
    cpu = take_snapshot(groups).since(before)
    if not completed:
        raise RuntimeError(f"no request completed through {stack.gateway} in an overhead round")
    cpu_s = sum(cpu.groups.values())
    marginal_s = cpu_s - sum(idle.values()) * cpu.wall
    return {
        "sent": sent,
        "completed": completed,
        "cpu_s": round(cpu_s, 3),
        "cpu_s_by_process": {name: round(v, 3) for name, v in cpu.groups.items()},
        "idle_cpu_s_per_s_by_process": {name: round(v, 4) for name, v in idle.items()},
        "wall_s": round(cpu.wall, 2),
        "cpu_ms_per_request": round(1000 * cpu_s / completed, 4),
        "marginal_cpu_ms_per_request": round(1000 * marginal_s / completed, 4),
    }


async def _start_both(options: FairnessOptions, servers: list[str]) -> dict[str, RunningStack]:
    directory = options.work_dir / "overhead"
    starts = [
        start_stack(
            stack_options(
                directory / arm, servers=servers, flow_control=arm == ARMS[0], options=options
            )
        )
        for arm in ARMS
    ]
    results = await asyncio.gather(*starts, return_exceptions=True)
    stacks = {arm: r for arm, r in zip(ARMS, results, strict=True) if isinstance(r, RunningStack)}
    for result in results:
        if isinstance(result, BaseException):
            for stack in stacks.values():
                await stack.stop()
            raise result
    return stacks


def _ratio_minus_one(rounds: list[dict[str, Any]], key: str) -> list[float]:
    """Per round: the flow-control arm's ``key`` over the other arm's, minus one."""
    ratios = []
    for r in rounds:
        fc, base = r[ARMS[0]][key], r[ARMS[1]][key]
        if base > 0:
            ratios.append(fc / base - 1)
    return ratios


def _interval(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"mean": None, "ci95": None, "resolution": None}
    interval = mean_ci95(values)
    finite = math.isfinite(interval.half_width)
    return {
        "mean": round(interval.mean, 4),
        "ci95": [round(interval.low, 4), round(interval.high, 4)] if finite else None,
        "resolution": round(interval.half_width, 4) if finite else None,
    }


def _mean(rounds: list[dict[str, Any]], arm: str, key: str) -> float:
    values: list[float] = [r[arm][key] for r in rounds]
    return round(sum(values) / len(values), 3)


def _idle_rates(rounds: list[dict[str, Any]], arm: str) -> dict[str, float]:
    names = rounds[0][arm]["idle_cpu_s_per_s_by_process"]
    return {
        name: round(
            sum(r[arm]["idle_cpu_s_per_s_by_process"][name] for r in rounds) / len(rounds), 4
        )
        for name in names
    }


def _summary(rounds: list[dict[str, Any]], admit_answered: int) -> dict[str, Any]:
    total = _interval(_ratio_minus_one(rounds, "cpu_ms_per_request"))
    marginal = _interval(_ratio_minus_one(rounds, "marginal_cpu_ms_per_request"))
    return {
        "rounds": len(rounds),
        "completed_per_arm": {arm: sum(r[arm]["completed"] for r in rounds) for arm in ARMS},
        "cpu_ms_per_request": {arm: _mean(rounds, arm, "cpu_ms_per_request") for arm in ARMS},
        "marginal_cpu_ms_per_request": {
            arm: _mean(rounds, arm, "marginal_cpu_ms_per_request") for arm in ARMS
        },
        "idle_cpu_s_per_s_by_process": {arm: _idle_rates(rounds, arm) for arm in ARMS},
        "overhead": total["mean"],
        "overhead_ci95": total["ci95"],
        "resolution": total["resolution"],
        "marginal_overhead": marginal["mean"],
        "marginal_overhead_ci95": marginal["ci95"],
        "admit_calls_answered_with_flow_control": admit_answered,
        "per_round": rounds,
    }


async def run_overhead(options: FairnessOptions, progress: Progress) -> dict[str, Any]:
    """Both stacks, the paired rounds, and the overhead with its 95% interval."""
    directory = options.work_dir / "overhead"
    sims, servers = await start_sims(
        directory, count=options.sims, model=MODEL, time_scale=options.overhead_time_scale
    )
    try:
        stacks = await _start_both(options, servers)
        try:
            # Warm both up (connections, caches); not measured.
            await asyncio.gather(
                *(
                    _load(stacks[arm], options, seconds=options.overhead_warmup_s, seed=999)
                    for arm in ARMS
                )
            )
            rounds = []
            for index in range(options.overhead_rounds):
                seed = options.seed + 100 + index
                measured = await asyncio.gather(
                    *(_measure(stacks[arm], options, seed=seed) for arm in ARMS)
                )
                rounds.append({"round": index, **dict(zip(ARMS, measured, strict=True))})
                fc, base = (m["cpu_ms_per_request"] for m in measured)
                progress(
                    f"[overhead] round {index + 1}/{options.overhead_rounds}: "
                    f"{fc:.2f} vs {base:.2f} CPU-ms/request with and without flow control"
                )
            replicas = await flow_controller_stats(stacks[ARMS[0]])
        finally:
            for stack in stacks.values():
                await stack.stop()
    finally:
        stop_sims(sims)
    answered = sum(stats["admit_answered"] for stats in replicas.values())
    return _summary(rounds, answered)
