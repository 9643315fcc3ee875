"""Run a whole benchmark: every arm at every load, one after another.

1. Resolve the plan (workload generated from the seed, loads, fleet) and the arms.
2. Prepare every arm at once (peer routers install concurrently on first use); an arm
   that cannot be prepared is *skipped*, with the reason, never silently dropped.
3. If the workload names models beyond the base model (``lora-mix``), check once on a
   throw-away fleet that the servers serve them.
4. For each arm, for each load: :func:`~bench.point.run_point` (fresh servers, fresh
   router). Points that fail to start are recorded with their error and the run goes on.

Nothing runs concurrently with a measurement except the load generator itself.
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.arms import Arm, build_arms
from bench.errors import BenchError
from bench.fleet import SimFleet
from bench.options import BenchOptions, Plan
from bench.point import run_point
from bench.preflight import check_models
from bench.results import ArmResult, BenchResult, PointResult
from gie_cli.devstack import DevstackError
from gie_cli.devstack.readiness import local_http_client

__all__ = ["Progress", "run_bench"]

Progress = Callable[[str], None]


def _machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": list(os.getloadavg()),
    }


async def _prepare(arm: Arm) -> str | None:
    try:
        return await arm.prepare()
    except (BenchError, DevstackError) as exc:
        return str(exc)


async def _check_models(plan: Plan, work_root: Path) -> None:
    extra = [m for m in plan.workload.models if m != plan.fleet.model]
    if not extra:
        return
    fleet = await SimFleet.start(plan.fleet, work_root / "model-check")
    try:
        async with local_http_client(timeout_s=5.0) as http:
            await check_models(http, fleet.servers[0], plan.workload.models)
    finally:
        await fleet.stop()


def _describe(point: PointResult) -> str:
    if point.error is not None:
        return f"failed: {point.error.splitlines()[0]}"
    ttft = f"{point.ttft_p90_s * 1000:.0f} ms" if point.ttft_p90_s is not None else "-"
    hit = f"{point.hit_rate:.0%}" if point.hit_rate is not None else "-"
    cpu = f"router CPU {point.router_cpu_s or 0:.1f}s, machine {point.machine_cpu or 0:.0%}"
    return (
        f"ok {point.success_rate:.0%}, TTFT p90 {ttft}, {point.tokens_per_s:.0f} tok/s, "
        f"hit {hit}, {cpu}"
    )


async def _run_arm(
    arm: Arm, plan: Plan, options: BenchOptions, work_root: Path, progress: Progress
) -> list[PointResult]:
    points = []
    for load in plan.loads:
        progress(f"{arm.name} @ {load.label}: running {len(plan.workload)} requests")
        point = await run_point(arm, plan, load, work_root=work_root, keep_logs=options.keep_logs)
        progress(f"{arm.name} @ {load.label}: {_describe(point)}")
        points.append(point)
    return points


async def run_bench(
    options: BenchOptions, *, progress: Progress | None = None, command: Sequence[str] = ()
) -> BenchResult:
    """Run the benchmark ``options`` describes; raises :class:`BenchError` for bad input."""
    say = progress or (lambda _message: None)
    started = datetime.now(UTC)
    plan = options.plan()
    arms = build_arms(
        plan.arms,
        gie_configs=options.gie_configs,
        gie_workers=options.gie_workers,
        venv_root=options.venv_root,
    )
    work_root = options.results_dir.absolute() / "runs"
    work_root.mkdir(parents=True, exist_ok=True)
    say(f"preparing arms: {', '.join(arm.name for arm in arms)}")
    reasons = await asyncio.gather(*(_prepare(arm) for arm in arms))
    await _check_models(plan, work_root)
    results: dict[str, ArmResult] = {}
    for arm, reason in zip(arms, reasons, strict=True):
        if reason is not None:
            say(f"{arm.name}: skipped: {reason}")
        points = [] if reason is not None else await _run_arm(arm, plan, options, work_root, say)
        results[arm.name] = ArmResult(
            name=arm.name,
            kind=arm.kind,
            description=arm.description,
            router_cpu_covers=arm.router_cpu_covers,
            version=arm.version(),
            skipped=reason,
            points=points,
        )
    if not any(work_root.iterdir()):
        work_root.rmdir()
    return BenchResult(
        scenario=plan.workload.name,
        description=plan.workload.description,
        parameters={**plan.workload.parameters, "requests": len(plan.workload)},
        command=" ".join(command) or " ".join(sys.argv),
        started_at=started.isoformat(timespec="seconds"),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        seed=options.seed,
        sims=plan.fleet.count,
        time_scale=plan.fleet.time_scale,
        load_kind="rate" if plan.loads[0].rate is not None else "concurrency",
        machine=_machine(),
        arms=results,
    )
