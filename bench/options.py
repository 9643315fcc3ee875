"""What ``gie bench`` was asked to do, and the plan resolved from it and the scenario.

:class:`BenchOptions` holds the user's choices (None = the scenario's default);
:meth:`BenchOptions.plan` resolves them against the scenario into a :class:`Plan`:
the generated workload, the loads to sweep, the fleet every run gets, and timeouts.
``quick`` shrinks everything to a smoke run (two servers, one load, a few requests,
faster simulated time).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.arms import DEFAULT_ARMS, DEFAULT_VENV_ROOT
from bench.errors import BenchError
from bench.fleet import FleetSpec
from bench.loadgen import Load
from bench.workloads import Scenario, Workload, get_scenario

__all__ = ["BenchOptions", "Plan"]

_QUICK_SIMS = 2
_QUICK_TIME_SCALE = 0.2


@dataclass(frozen=True, kw_only=True)
class Plan:
    scenario: Scenario
    workload: Workload
    arms: tuple[str, ...]
    loads: tuple[Load, ...]
    fleet: FleetSpec
    seed: int  # of the workload and of the arrival process
    request_timeout_s: float
    drain_timeout_s: float
    ready_timeout_s: float


@dataclass(frozen=True, kw_only=True)
class BenchOptions:
    scenario: str = "shared-prefix"
    results_dir: Path
    quick: bool = False
    arms: tuple[str, ...] | None = None  # None: the scenario's, else DEFAULT_ARMS
    gie_configs: tuple[Path | None, ...] = (None,)  # None: gie without a config file
    gie_workers: tuple[int, ...] = (1,)  # picker worker processes, one gie arm each
    rates: tuple[float, ...] | None = None  # requests/s; None: the scenario's sweep
    concurrency: tuple[int, ...] | None = None  # closed loop instead of rates
    sims: int | None = None
    time_scale: float | None = None
    sim_args: tuple[str, ...] = ()
    seed: int = 0
    model: str = "sim-llama"
    venv_root: Path = DEFAULT_VENV_ROOT
    keep_logs: bool = False
    request_timeout_s: float | None = None
    drain_timeout_s: float | None = None

    def _loads(self, scenario: Scenario) -> tuple[Load, ...]:
        if self.rates is not None and self.concurrency is not None:
            raise BenchError("give --rates or --concurrency, not both")
        if self.concurrency is not None:
            if not self.concurrency or min(self.concurrency) < 1:
                raise BenchError("--concurrency values must be >= 1")
            return tuple(Load(concurrency=c) for c in self.concurrency)
        rates = self.rates
        if rates is None:
            rates = (scenario.quick_rate,) if self.quick else scenario.rates
        if not rates or min(rates) <= 0:
            raise BenchError("--rates values must be > 0 requests/s")
        return tuple(Load(rate=rate) for rate in rates)

    def plan(self) -> Plan:
        scenario = get_scenario(self.scenario)
        generator = scenario.quick if self.quick else scenario.full
        default_scale = _QUICK_TIME_SCALE if self.quick else scenario.time_scale
        scenario_args = scenario.sim_args
        if self.quick and scenario.quick_sim_args is not None:
            scenario_args = scenario.quick_sim_args
        fleet = FleetSpec(
            count=self.sims or (_QUICK_SIMS if self.quick else scenario.sims),
            time_scale=self.time_scale if self.time_scale is not None else default_scale,
            model=self.model,
            extra_args=(*scenario_args, *self.sim_args),
        )
        return Plan(
            scenario=scenario,
            workload=generator.generate(seed=self.seed, model=self.model),
            arms=self.arms or scenario.arms or DEFAULT_ARMS,
            loads=self._loads(scenario),
            fleet=fleet,
            seed=self.seed,
            request_timeout_s=self.request_timeout_s or (30.0 if self.quick else 180.0),
            drain_timeout_s=self.drain_timeout_s or (15.0 if self.quick else 60.0),
            ready_timeout_s=30.0 if self.quick else 60.0,
        )
