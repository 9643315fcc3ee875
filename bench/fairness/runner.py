"""Run the fairness scenario: simulators, two stacks (flow control on / off), the load.

Per mode, a fresh ``gie_sim`` process (few servers, small ``--max-num-seqs``, slowed
down so the pool saturates at a modest rate) and a fresh devstack in front of it
(``StackOptions.endpoints``; two picker workers, one flow-controller). Each stack first
gets an unsaturated load (CPU of picker + flow-controller + Envoy per request), then the
saturated two-tenant load.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.fairness.load import Outcome, TenantLoad, run_load
from bench.fairness.metrics import (
    Sample,
    jain_index,
    percentile,
    served_while_backlogged,
    shares,
)
from bench.measure.cpu import take_snapshot
from gie.devstack import StackOptions, start_stack

__all__ = ["FairnessOptions", "config_text", "run_fairness"]

Progress = Callable[[str], None]
MODEL = "sim-llama"
LIGHT, HEAVY = "light", "heavy"
INPUT_WEIGHT, OUTPUT_WEIGHT = 1, 2  # virtual-token-fairness defaults
_CPU_GROUPS = ("picker", "flow-controller", "envoy")
MODES = ("flow_control", "no_flow_control")


@dataclass(frozen=True, kw_only=True)
class FairnessOptions:
    quick: bool = False
    seed: int = 0
    work_dir: Path
    sims: int = 2
    max_num_seqs: int = 2
    time_scale: float = 6.0
    prompt_chars: int = 512  # ~128 prompt tokens
    max_tokens: int = 32
    light_rate: float = 1.2  # requests/s (about its fair share); heavy sends 10x this
    heavy_factor: float = 10.0
    saturated_s: float = 60.0
    unsaturated_rate: float = 1.2  # total requests/s of the unsaturated phase
    unsaturated_s: float = 30.0
    drain_s: float = 20.0

    @classmethod
    def for_mode(cls, *, quick: bool, seed: int, work_dir: Path) -> FairnessOptions:
        if quick:
            return cls(
                quick=True,
                seed=seed,
                work_dir=work_dir,
                saturated_s=15.0,
                unsaturated_s=8.0,
                drain_s=8.0,
            )
        return cls(seed=seed, work_dir=work_dir)


def config_text(*, flow_control: bool) -> str:
    """The EndpointPickerConfig of one mode; both share the saturation detector."""
    lines = [
        "apiVersion: inference.networking.x-k8s.io/v1alpha1",
        "kind: EndpointPickerConfig",
    ]
    if flow_control:
        lines.append("featureGates: [flowControl]")
    lines.append("saturationDetector: {queueDepthThreshold: 1, metricsStalenessThreshold: 2s}")
    if flow_control:
        lines += [
            "flowControl:",
            "  shardCount: 2",
            "  defaultPriorityBand: {fairnessPolicy: virtual-token-fairness}",
        ]
    lines += ["plugins:", "- type: queue-scorer", ""]
    return "\n".join(lines)


async def _start_sims(
    options: FairnessOptions, directory: Path
) -> tuple[subprocess.Popen[bytes], list[str]]:
    ready = directory / "sims.json"
    argv = [sys.executable, "-m", "gie_sim", "--count", str(options.sims)]
    argv += ["--max-num-seqs", str(options.max_num_seqs), "--time-scale", f"{options.time_scale:g}"]
    argv += ["--model", MODEL, "--ready-file", str(ready), "--log-level", "WARNING"]
    proc = _spawn(argv, directory / "sims.log")
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"gie_sim exited with {proc.returncode}; see {directory}/sims.log")
        if ready.exists():
            servers: list[str] = json.loads(ready.read_text(encoding="utf-8"))["servers"]
            return proc, servers
        await asyncio.sleep(0.1)
    _stop_sims(proc)
    raise RuntimeError("gie_sim not ready within 60s")


def _spawn(argv: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True)


def _stop_sims(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def _samples(outcomes: list[Outcome], options: FairnessOptions) -> list[Sample]:
    nominal_in = options.prompt_chars // 4
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
        "tenants": per_tenant,
    }


def _groups(stack_pids: Mapping[str, int]) -> dict[str, int]:
    return {name: pid for name, pid in stack_pids.items() if name in _CPU_GROUPS}


async def _run_mode(mode: str, options: FairnessOptions, progress: Progress) -> dict[str, Any]:
    flow_control = mode == "flow_control"
    directory = options.work_dir / mode
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "epp.yaml"
    config.write_text(config_text(flow_control=flow_control), encoding="utf-8")
    sims, servers = await _start_sims(options, directory)
    try:
        stack = await start_stack(
            StackOptions(
                state_dir=directory / "stack",
                endpoints=tuple(servers),
                model=MODEL,
                picker_workers=2,
                config_file=config,
                stop_grace_s=5.0,
            )
        )
        try:
            groups = _groups({r.name: r.pid for r in stack.state.processes})
            heavy_share = options.heavy_factor / (options.heavy_factor + 1)
            unsat_rate = options.unsaturated_rate
            count = max(2, round(unsat_rate * options.unsaturated_s))
            progress(f"[{mode}] unsaturated: {unsat_rate:g} req/s for {options.unsaturated_s:g}s")
            before = take_snapshot(groups)
            unsat, _ = await run_load(
                stack.gateway,
                [
                    TenantLoad(
                        name=HEAVY, rate=unsat_rate * heavy_share, count=round(count * heavy_share)
                    ),
                    TenantLoad(
                        name=LIGHT,
                        rate=unsat_rate * (1 - heavy_share),
                        count=max(1, round(count * (1 - heavy_share))),
                    ),
                ],
                model=MODEL,
                prompt_chars=options.prompt_chars,
                max_tokens=options.max_tokens,
                seed=options.seed + 7,
                drain_s=options.drain_s,
            )
            cpu = take_snapshot(groups).since(before)
            completed = sum(o.ok for o in unsat)
            cpu_s = sum(cpu.groups.values())
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
        finally:
            await stack.stop()
    finally:
        _stop_sims(sims)
    summary = summarise_saturated(outcomes, cutoff, options)
    summary["unsaturated"] = {
        "sent": len(unsat),
        "completed": completed,
        "cpu_s": round(cpu_s, 3),
        "cpu_s_by_process": {k: round(v, 3) for k, v in cpu.groups.items()},
        "wall_s": round(cpu.wall, 2),
        "cpu_ms_per_request": round(1000 * cpu_s / completed, 3) if completed else None,
    }
    progress(
        f"[{mode}] jain {summary['jain_index']}, light TTFT p99 {summary['light_ttft_p99_s']}s, "
        f"unsaturated CPU {cpu_s:.2f}s for {completed} requests"
    )
    return summary


async def run_fairness(
    options: FairnessOptions, *, progress: Progress | None = None
) -> dict[str, Any]:
    """Both modes, then the headline numbers and whether each target is met."""
    say = progress or (lambda _message: None)
    modes = {mode: await _run_mode(mode, options, say) for mode in MODES}
    fc, base = modes["flow_control"], modes["no_flow_control"]
    fc_p99, base_p99 = fc["light_ttft_p99_s"], base["light_ttft_p99_s"]
    improvement = base_p99 / fc_p99 if fc_p99 and base_p99 else None
    fc_cpu, base_cpu = fc["unsaturated"]["cpu_s"], base["unsaturated"]["cpu_s"]
    overhead = (fc_cpu - base_cpu) / base_cpu if base_cpu > 0 else None
    jain = fc["jain_index"]
    return {
        "scenario": "fairness",
        "quick": options.quick,
        "jain_index": jain,
        "light_ttft_p99_s": {"flow_control": fc_p99, "no_flow_control": base_p99},
        "light_ttft_p99_improvement": round(improvement, 2) if improvement else None,
        "unsaturated_cpu_overhead": round(overhead, 4) if overhead is not None else None,
        "targets": {
            "jain_index_ge_0_98": jain >= 0.98,
            "light_ttft_p99_3x_better": improvement is not None and improvement >= 3.0,
            "unsaturated_overhead_le_5pct": overhead is not None and overhead <= 0.05,
        },
        "setup": {
            "picker_replicas": 2,
            "flow_controller_replicas": 1,
            "sims": options.sims,
            "max_num_seqs": options.max_num_seqs,
            "time_scale": options.time_scale,
            "light_rate": options.light_rate,
            "heavy_rate": options.light_rate * options.heavy_factor,
            "saturated_s": options.saturated_s,
            "unsaturated_rate": options.unsaturated_rate,
            "unsaturated_s": options.unsaturated_s,
            "weights": {"input": INPUT_WEIGHT, "output": OUTPUT_WEIGHT},
        },
        "modes": modes,
    }
