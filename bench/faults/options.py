"""The faults scenario's settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["MODEL", "FaultsOptions"]

MODEL = "sim-llama"


@dataclass(frozen=True, kw_only=True)
class FaultsOptions:
    work_dir: Path
    quick: bool = False
    seed: int = 0
    only: tuple[str, ...] = ()  # fault names to run (empty: every fault)
    replicas: int = 2  # of every service
    sims: int = 3  # model servers, one process each
    time_scale: float = 0.5  # simulated latency multiplier
    # Small batches and more clients than servers: the pool is often saturated, so
    # requests go through flow control (and its Redis) as well as the fast path.
    max_num_seqs: int = 1
    max_tokens: int = 8
    clients: int = 18  # closed-loop clients sending back to back: 6 per server
    request_timeout_s: float = 10.0  # a request unanswered this long failed ("timeout")
    slow_s: float = 2.0  # a request answered after this long counts as slow
    before_s: float = 2.0  # load before each fault
    heal_after_s: float = 1.0  # a killed process is restarted this long after the kill
    after_s: float = 6.0  # load after the heal has completed
    settle_s: float = 10.0  # after the load: how long the views may take to agree
    sample_every_s: float = 0.2  # view digest sampling period
    recovery_window_s: float = 1.0  # "a second with no failure and equal digests"
    in_step_events: int = 30  # replicas this close on the state stream are in step
    # Whether a fault's window waits for the replica it restarted to be ready (off with
    # --quick: the next fault, or the end of the run, waits for it instead).
    wait_heal: bool = True

    @classmethod
    def for_mode(
        cls, *, quick: bool, seed: int, work_dir: Path, only: tuple[str, ...] = ()
    ) -> FaultsOptions:
        if quick:
            return cls(
                quick=True,
                seed=seed,
                work_dir=work_dir,
                only=only,
                before_s=1.5,
                after_s=3.0,
                wait_heal=False,
            )
        return cls(seed=seed, work_dir=work_dir, only=only, before_s=3.0, after_s=6.0)
