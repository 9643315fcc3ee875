"""Measure one arm once: start it, warm up, then an idle, a saturated and a paced window.

The idle window (no requests) shows what the ext_proc servers cost doing nothing, a
fixed cost that weighs on CPU per request at low rates. The other windows are one phase
of the load generator each; CPU is sampled (by process group, see :mod:`.cpu_groups`)
right before the harness hands the phase over and right after its result arrives. The
saturated window is closed loop (``concurrency`` in flight: the machine's throughput);
the paced window sends a fixed rate every arm sustains, so the arms are compared doing
the same work per second. Per-worker stream counts are read
just outside the saturated window, so scraping them costs nothing inside it. Every
process the arm started is stopped when this returns or raises.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from bench.picker_overhead.arms import ArmSpec, start_ext_proc
from bench.picker_overhead.cpu_groups import CpuGroups, cpu_delta
from bench.picker_overhead.envoy_gateway import start_gateway
from bench.picker_overhead.errors import LoadError
from bench.picker_overhead.load_client import LoadClient
from bench.picker_overhead.nats_server import start_secure_nats
from bench.picker_overhead.processes import ProcessSet
from bench.picker_overhead.profiling import PySpy, write_hot_spots
from bench.picker_overhead.results import ArmRound, Window
from bench.picker_overhead.shared_servers import SharedServers
from gie_cli.devstack.envoy_config import DESTINATION_HEADER
from gie_cli.devstack.secure import SecureStack

__all__ = ["LoadPlan", "measure_arm"]


@dataclass(frozen=True, kw_only=True, slots=True)
class LoadPlan:
    requests: int  # saturated window, `concurrency` in flight
    concurrency: int
    warmup: int  # before any window, same concurrency
    paced_requests: int  # paced window (0: none)
    rate: float  # requests per second in the paced window
    idle_s: float  # idle window before the others (0: none)
    profile_dir: Path | None = None  # py-spy the ext_proc servers in the saturated window

    def timeout_s(self, requests: int) -> float:
        """Bound on one phase: generous, at 20 requests a second."""
        return 60.0 + requests / 20


async def _window(
    load: LoadClient, groups: CpuGroups, plan: LoadPlan, *, requests: int, paced: bool
) -> Window:
    before = groups.sample()
    phase = await load.run(
        requests=requests,
        concurrency=0 if paced else plan.concurrency,
        rate=plan.rate if paced else 0.0,
        timeout_s=plan.timeout_s(requests) + (requests / plan.rate if paced else 0.0),
    )
    return Window(phase=phase, cpu=cpu_delta(groups.sample(), before))


async def _saturated(load: LoadClient, groups: CpuGroups, plan: LoadPlan, *, name: str) -> Window:
    if plan.profile_dir is None or not groups.ext_proc:
        return await _window(load, groups, plan, requests=plan.requests, paced=False)
    plan.profile_dir.mkdir(parents=True, exist_ok=True)
    spies = [
        await PySpy.attach(pid, plan.profile_dir / f"{name}-{index}.txt")
        for index, pid in enumerate(groups.ext_proc)
    ]
    try:
        return await _window(load, groups, plan, requests=plan.requests, paced=False)
    finally:
        for spy in spies:
            await spy.stop()
            write_hot_spots(spy.output)


async def _idle_ms_per_s(groups: CpuGroups, seconds: float) -> float:
    started, before = time.monotonic(), groups.sample()
    await asyncio.sleep(seconds)
    cpu = cpu_delta(groups.sample(), before)
    return cpu.ext_proc * 1000 / (time.monotonic() - started)


async def measure_arm(
    spec: ArmSpec, *, shared: SharedServers, plan: LoadPlan, round_index: int, run_dir: Path
) -> ArmRound:
    """Start ``spec``'s servers and Envoy, load them, stop them; return the measurements."""
    arm_dir = run_dir / f"r{round_index}-{spec.name}"
    arm_dir.mkdir(parents=True, exist_ok=True)
    async with ProcessSet(arm_dir) as procs:
        # The -tls arms: certificates as `gie up --secure` makes them, fresh per start.
        secure = SecureStack.create(arm_dir / "pki") if spec.tls else None
        if secure is not None and spec.bus_tls:  # the arm's own NATS, as the secure stack's
            nats = await start_secure_nats(procs, store_dir=arm_dir / "nats", secure=secure)
            shared = dataclasses.replace(shared, nats=nats)
        servers = await start_ext_proc(
            spec, procs, shared, env=secure.service_env("picker") if secure else None
        )
        gateway = await start_gateway(
            procs,
            ext_proc_ports=servers.ports,
            config_dir=arm_dir,
            picker_tls=secure.picker_tls() if secure else None,
        )
        # Without ext_proc the client names the endpoint; with it, the ext_proc server does.
        headers = {} if servers.ports else {DESTINATION_HEADER: shared.destination}
        url = f"{gateway.url}/v1/completions"
        log_path = arm_dir / "loadgen.log"
        async with await LoadClient.start(url=url, headers=headers, log_path=log_path) as load:
            warm = await load.run(
                requests=plan.warmup,
                concurrency=plan.concurrency,
                timeout_s=plan.timeout_s(plan.warmup),
            )
            if warm.failed:
                raise LoadError(
                    f"{spec.name}: {warm.failed} of {warm.requests} warm-up requests failed "
                    f"({warm.statuses}); logs in {arm_dir}"
                )
            groups = CpuGroups(
                ext_proc=servers.pgids,
                envoy=gateway.pid,
                nats=shared.nats.pid,
                upstreams=shared.upstreams_pid,
                loadgen=load.pid,
            )
            idle = await _idle_ms_per_s(groups, plan.idle_s) if plan.idle_s > 0 else None
            streams_before = await servers.stream_counts()
            loaded = await _saturated(load, groups, plan, name=f"r{round_index}-{spec.name}")
            streams_after = await servers.stream_counts()
            paced = None
            if plan.paced_requests:
                paced = await _window(load, groups, plan, requests=plan.paced_requests, paced=True)
    return ArmRound(
        arm=spec.name,
        round=round_index,
        loaded=loaded,
        paced=paced,
        idle_ext_proc_ms_per_s=idle,
        worker_streams=tuple(a - b for a, b in zip(streams_after, streams_before, strict=True)),
    )
