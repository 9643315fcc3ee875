"""One benchmark run: shared servers once, then every arm, round after round.

Arms are interleaved within each round (``envoy-direct``, ``bare-1``, ``gie-1``,
``bare-4``, ``gie-4``) so that drift in the machine's background load touches every arm
alike. Each arm starts fresh servers and Envoy and stops them before the next. Logs and
configurations go to ``run_dir``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.picker_overhead.arms import ARM_NAMES, ARMS
from bench.picker_overhead.measure import LoadPlan, measure_arm
from bench.picker_overhead.processes import ProcessSet
from bench.picker_overhead.results import ArmRound
from bench.picker_overhead.shared_servers import start_shared

__all__ = ["BenchOptions", "BenchRun", "run_benchmark"]


@dataclass(frozen=True, kw_only=True, slots=True)
class BenchOptions:
    requests: int = 4000
    concurrency: int = 16
    warmup: int = 400
    paced_requests: int = 1000
    rate: float = 100.0
    idle_s: float = 3.0
    profile_dir: Path | None = None  # py-spy the ext_proc servers (CPU numbers then inflated)
    rounds: int = 3
    endpoints: int = 100
    arms: tuple[str, ...] = ARM_NAMES
    picker_revision: str | None = None  # git revision of the picker (None: installed tree)
    log_dir: Path | None = None  # keep logs here (None: a temporary directory)

    @property
    def plan(self) -> LoadPlan:
        return LoadPlan(
            requests=self.requests,
            concurrency=self.concurrency,
            warmup=self.warmup,
            paced_requests=self.paced_requests,
            rate=self.rate,
            idle_s=self.idle_s,
            profile_dir=self.profile_dir,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class BenchRun:
    options: BenchOptions
    machine: dict[str, str]
    rounds: list[ArmRound] = field(default_factory=list)


async def run_benchmark(
    options: BenchOptions,
    *,
    run_dir: Path,
    machine: dict[str, str],
    progress: Callable[[str], None],
    picker_pythonpath: str = "",
) -> BenchRun:
    """Run every selected arm ``options.rounds`` times; stop everything it started."""
    run = BenchRun(options=options, machine=machine)
    arms = [arm for arm in ARMS if arm.name in options.arms]
    async with ProcessSet(run_dir) as procs:
        shared = await start_shared(
            procs,
            endpoints=options.endpoints,
            run_dir=run_dir,
            picker_pythonpath=picker_pythonpath,
        )
        progress(f"{options.endpoints} upstreams and nats-server ready")
        for round_index in range(1, options.rounds + 1):
            for arm in arms:
                result = await measure_arm(
                    arm, shared=shared, plan=options.plan, round_index=round_index, run_dir=run_dir
                )
                run.rounds.append(result)
                loaded = result.loaded
                progress(
                    f"round {round_index} {arm.name}: {loaded.phase.throughput:.0f} req/s, "
                    f"p50 {loaded.phase.p50_ms:.2f} ms, ext_proc CPU "
                    f"{loaded.per_request_ms(loaded.cpu.ext_proc):.3f} ms/req"
                )
    return run
