"""One measurement: one arm at one load, in front of a fresh fleet of servers.

Steps: start the fleet → start the arm → wait until it routes → snapshot the servers'
counters and CPU → drive the workload (and its side traffic straight to the servers,
if any) → snapshot again → stop the arm → stop the fleet
(always, in that order). A failure to start becomes a :class:`PointResult` with
``error`` set, and its logs are kept; otherwise the run's directory is removed unless
``keep_logs``.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from bench.arms import Arm
from bench.errors import ArmStartError
from bench.fleet import SimFleet
from bench.loadgen import Load, drive, drive_side
from bench.measure import scrape_all, summarise, take_snapshot
from bench.options import Plan
from bench.preflight import wait_routable
from bench.results import PointResult
from gie_cli.devstack.readiness import local_http_client

__all__ = ["run_point"]

SIMS_GROUP = "sims"


async def _measure(arm: Arm, plan: Plan, load: Load, fleet: SimFleet, work: Path) -> PointResult:
    running = await arm.start(
        servers=fleet.servers,
        work_dir=work,
        model=plan.fleet.model,
        endpoint_labels=fleet.labels,
    )
    try:
        groups = {**running.router_groups, **running.support_groups, SIMS_GROUP: fleet.pgid}
        async with local_http_client(timeout_s=10.0) as http:
            await wait_routable(
                http, arm.name, running.url, model=plan.fleet.model, timeout_s=plan.ready_timeout_s
            )
            counters_before = await scrape_all(http, fleet.servers)
            cpu_before = take_snapshot(groups)
            results, side = await asyncio.gather(
                drive(
                    running.url,
                    plan.workload.requests,
                    load,
                    seed=plan.seed,
                    request_timeout_s=plan.request_timeout_s,
                    drain_timeout_s=plan.drain_timeout_s,
                ),
                drive_side(
                    fleet.servers,
                    plan.workload.side,
                    load,
                    main_requests=len(plan.workload),
                    seed=plan.seed,
                    request_timeout_s=plan.request_timeout_s,
                    drain_timeout_s=plan.drain_timeout_s,
                ),
            )
            cpu = take_snapshot(groups).since(cpu_before)
            counters_after = await scrape_all(http, fleet.servers)
    finally:
        await running.stop()
    return summarise(
        load=load,
        results=results,
        side=side,
        counters=[a.minus(b) for a, b in zip(counters_after, counters_before, strict=True)],
        servers=fleet.servers,
        cpu=cpu,
        router_groups=list(running.router_groups),
        support_groups=list(running.support_groups),
        sims_group=SIMS_GROUP,
    )


async def run_point(
    arm: Arm, plan: Plan, load: Load, *, work_root: Path, keep_logs: bool
) -> PointResult:
    """Measure ``arm`` at ``load``; never raises for an arm that fails to start."""
    work = work_root / f"{arm.name}-{load.value:g}"
    work.mkdir(parents=True, exist_ok=True)
    try:
        fleet = await SimFleet.start(plan.fleet, work, timeout_s=plan.ready_timeout_s)
        try:
            point = await _measure(arm, plan, load, fleet, work)
        finally:
            await fleet.stop()
    except ArmStartError as exc:
        tail = f"\n{exc.tail}" if exc.tail else ""
        return PointResult(
            load=load.value,
            load_kind="rate" if load.rate is not None else "concurrency",
            requests=len(plan.workload),
            error=f"{exc} (logs kept in {work}){tail}",
        )
    if not keep_logs:
        shutil.rmtree(work, ignore_errors=True)
    return point
