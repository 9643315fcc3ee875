"""Run the faults scenario: start the model servers and the stack, then per fault
load, inject, heal, settle and measure."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

import httpx

from bench.fairness.replicas import flow_controller_stats
from bench.faults.catalog import FAULTS, Fault, FaultContext, victim
from bench.faults.load import Load
from bench.faults.measure import fault_result
from bench.faults.options import MODEL, FaultsOptions
from bench.faults.servers import ModelServers
from bench.faults.views import ViewSampler
from gie_cli.devstack import RunningStack, StackOptions, check_stack, start_stack

__all__ = ["CONFIG", "run_faults", "selected_faults"]

Progress = Callable[[str], None]

# Flow control on, so the flow-controller and Redis carry requests of a saturated pool;
# a primary and a fallback endpoint per request, so a dead server's requests go on.
CONFIG = """\
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
featureGates: [flowControl]
saturationDetector: {queueDepthThreshold: 1, metricsStalenessThreshold: 2s}
plugins:
- type: queue-scorer
- type: max-score-picker
  parameters: {maxNumOfEndpoints: 2}
schedulingProfiles:
- name: default
  plugins:
  - {pluginRef: queue-scorer}
  - {pluginRef: max-score-picker}
"""


def selected_faults(only: tuple[str, ...]) -> list[Fault]:
    unknown = [name for name in only if name not in FAULTS]
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(FAULTS)}")
    return [FAULTS[name] for name in (only or tuple(FAULTS))]


async def _healthy(stack: RunningStack, *, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not (status := await check_stack(stack.state)).healthy:
        if time.monotonic() > deadline:
            sick = [
                name for name, part in status.to_json()["services"].items() if not part["healthy"]
            ]
            raise RuntimeError(f"the stack is not healthy before the next fault: {sick}")
        await asyncio.sleep(0.2)


def _dump(
    options: FaultsOptions, name: str, load: Load, sampler: ViewSampler, fault_at: float
) -> None:
    """Every request and view sample of a fault, times relative to the fault."""
    rows = {
        "requests": [
            {
                "sent": round(o.sent_at - fault_at, 3),
                "done": round(o.done_at - fault_at, 3) if o.done_at is not None else None,
                "status": o.status,
                "detail": o.detail,
                "served_by": o.served_by,
            }
            for o in load.outcomes
        ],
        "views": [
            {"at": round(s.at - fault_at, 3), "equal": s.equal, "views": s.views}
            for s in sampler.samples
        ],
    }
    path = options.work_dir / f"{name}.json"
    path.write_text(json.dumps(rows) + "\n", encoding="utf-8")


def _grown(after: int, before: int) -> int:
    return after - before if after >= before else after  # restarted: counted from zero


async def _finish(healing: list[asyncio.Task[None]]) -> None:
    """Wait for the replicas earlier faults restarted to be ready."""
    pending = list(healing)
    healing.clear()
    await asyncio.gather(*pending)


async def _admit_calls(stack: RunningStack) -> dict[str, int]:
    """Admit calls answered so far, per flow-controller replica (0 if it does not answer)."""
    try:
        stats = await flow_controller_stats(stack)
    except httpx.HTTPError:
        return {}
    return {name: int(stat["admit_answered"]) for name, stat in stats.items()}


async def _one(
    fault: Fault, ctx: FaultContext, options: FaultsOptions, say: Progress
) -> dict[str, Any]:
    await _healthy(ctx.stack)
    await fault.prepare(ctx)
    load = Load(
        ctx.stack.gateway,
        clients=options.clients,
        model=MODEL,
        max_tokens=options.max_tokens,
        timeout_s=options.request_timeout_s,
    )
    sampler = ViewSampler(ctx.stack, every_s=options.sample_every_s)
    admits_before = await _admit_calls(ctx.stack)
    load.start()
    sampler.start()
    try:
        await asyncio.sleep(options.before_s)
        fault_at = time.monotonic()
        say(f"{fault.name}: {fault.summary}")
        await fault.inject(ctx)
        heal_after = options.heal_after_s if fault.heal_after_s is None else fault.heal_after_s
        await asyncio.sleep(max(0.0, fault_at + heal_after - time.monotonic()))
        healed_at = time.monotonic()
        await fault.heal(ctx)
        healed_s = time.monotonic() - fault_at
        await asyncio.sleep(options.after_s)
    finally:
        load_end = time.monotonic()
        await load.stop()
        await sampler.stop()
    settled = await sampler.settle(timeout_s=options.settle_s)
    admits_after = await _admit_calls(ctx.stack)
    _dump(options, fault.name, load, sampler, fault_at)
    result = fault_result(
        load.outcomes,
        sampler.samples,
        settled,
        fault_at=fault_at,
        load_end=load_end,
        window_s=options.recovery_window_s,
        slow_s=options.slow_s,
        max_gap=options.in_step_events,
    )
    result["heal_started_s"] = round(healed_at - fault_at, 2)
    result["healed_s"] = round(healed_s, 2)
    during = [sample for sample in sampler.samples if sample.at < fault_at]
    result["equal_samples_before"] = round(
        sum(sample.equal for sample in during) / max(1, len(during)), 2
    )
    # Admit calls the flow-controllers answered during the fault's load (a restarted
    # replica counts from zero): whether flow control carried requests at all.
    result["flow_admit_calls"] = sum(
        _grown(count, admits_before.get(name, 0)) for name, count in admits_after.items()
    )
    if fault.hits_model_server:
        # Requests started between the fault and its heal that the hit server answered,
        # and when the last of them started: how long the picker kept choosing it.
        hit = victim(ctx.servers)
        chosen = [
            o.sent_at - fault_at
            for o in load.outcomes
            if fault_at <= o.sent_at < healed_at and o.served_by == hit
        ]
        result["served_by_hit_server"] = len(chosen)
        result["last_sent_to_hit_server_s"] = round(max(chosen), 2) if chosen else None
    result.update(ctx.notes)
    say(
        f"  sent {result['sent']}, failed {result['failed']} "
        f"(in flight {result['failed_in_flight']}, new {result['failed_new']}) "
        f"{result['failed_by_status']}, recovery {result['recovery_s']}s, "
        f"digests equal {result['digests_equal']}, events lost {result['events_lost']}"
    )
    return result


async def run_faults(options: FaultsOptions, *, progress: Progress | None = None) -> dict[str, Any]:
    """Every selected fault, one at a time on one stack; the numbers of each."""
    say = progress or (lambda _message: None)
    faults = selected_faults(options.only)
    work = options.work_dir
    work.mkdir(parents=True, exist_ok=True)
    config = work / "epp.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    servers = ModelServers(
        work / "servers",
        count=options.sims,
        model=MODEL,
        time_scale=options.time_scale,
        max_num_seqs=options.max_num_seqs,
    )
    children: list[subprocess.Popen[bytes]] = []
    healing: list[asyncio.Task[None]] = []
    results: dict[str, dict[str, Any]] = {}
    await servers.start()
    try:
        say(f"stack: {options.replicas} replicas of every service, {options.sims} model servers")
        stack = await start_stack(
            StackOptions(
                state_dir=work / "stack",
                endpoints=tuple(servers.addresses),
                model=MODEL,
                pickers=options.replicas,
                collectors=options.replicas,
                ingests=options.replicas,
                flow_controllers=options.replicas,
                config_file=config,
                stop_grace_s=5.0,
            )
        )
        try:
            for fault in faults:
                await _finish(healing)
                ctx = FaultContext(
                    stack=stack,
                    servers=servers,
                    children=children,
                    healing=healing,
                    wait_heal=options.wait_heal,
                )
                results[fault.name] = await _one(fault, ctx, options, say)
        finally:
            for task in healing:
                task.cancel()
            await asyncio.gather(*healing, return_exceptions=True)
            await stack.stop()
            for child in children:
                child.poll()
    finally:
        await servers.stop()
    return {
        "scenario": "faults",
        "quick": options.quick,
        "setup": {
            "replicas": options.replicas,
            "model_servers": options.sims,
            "clients": options.clients,
            "time_scale": options.time_scale,
            "max_num_seqs": options.max_num_seqs,
            "before_s": options.before_s,
            "after_s": options.after_s,
            "heal_after_s": options.heal_after_s,
            "wait_heal": options.wait_heal,
        },
        "faults": results,
    }
