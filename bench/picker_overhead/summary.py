"""One arm over all its rounds: medians of the per-round numbers, summed stream counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from statistics import median
from typing import Any

from bench.picker_overhead.results import ArmRound, Window

__all__ = ["ArmSummary", "WindowSummary", "summarize"]


@dataclass(frozen=True, kw_only=True, slots=True)
class WindowSummary:
    """One kind of window (saturated or paced) over the rounds; medians unless said."""

    requests: int  # all rounds
    failed: int  # of those, not answered 200 (all rounds)
    throughput: float  # requests/s
    p50_ms: float
    p99_ms: float
    ext_proc_ms: float  # ext_proc CPU per request (all workers)
    ext_proc_ms_min: float
    ext_proc_ms_max: float
    ext_proc_ms_rounds: tuple[float, ...]  # each round's, in round order
    envoy_ms: float
    nats_ms: float
    upstreams_ms: float
    loadgen_ms: float
    busy_cores: float  # the whole machine during the window
    other_cores: float  # of which, processes outside the benchmark


@dataclass(frozen=True, kw_only=True, slots=True)
class ArmSummary:
    arm: str
    rounds: int
    loaded: WindowSummary
    paced: WindowSummary | None
    idle_ext_proc_ms_per_s: float | None  # median over rounds
    worker_streams: tuple[int, ...]  # saturated windows, summed over rounds
    worst_share_deviation: float | None  # max over rounds and workers of |share - 1/N|

    @property
    def worker_shares(self) -> tuple[float, ...]:
        total = sum(self.worker_streams)
        return tuple(count / total for count in self.worker_streams) if total else ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["worker_shares"] = list(self.worker_shares)
        return data


def _median(values: Sequence[float]) -> float:
    return median(values) if values else 0.0


def _summarize_windows(windows: Sequence[Window]) -> WindowSummary:
    cpu_ms = [w.per_request_ms(w.cpu.ext_proc) for w in windows]
    return WindowSummary(
        requests=sum(w.phase.requests for w in windows),
        failed=sum(w.phase.failed for w in windows),
        throughput=_median([w.phase.throughput for w in windows]),
        p50_ms=_median([w.phase.p50_ms for w in windows]),
        p99_ms=_median([w.phase.p99_ms for w in windows]),
        ext_proc_ms=_median(cpu_ms),
        ext_proc_ms_min=min(cpu_ms),
        ext_proc_ms_max=max(cpu_ms),
        ext_proc_ms_rounds=tuple(cpu_ms),
        envoy_ms=_median([w.per_request_ms(w.cpu.envoy) for w in windows]),
        nats_ms=_median([w.per_request_ms(w.cpu.nats) for w in windows]),
        upstreams_ms=_median([w.per_request_ms(w.cpu.upstreams) for w in windows]),
        loadgen_ms=_median([w.per_request_ms(w.cpu.loadgen) for w in windows]),
        busy_cores=_median([w.busy_cores for w in windows]),
        other_cores=_median([w.other_load_cores for w in windows]),
    )


def _worst_deviation(rounds: Sequence[ArmRound]) -> float | None:
    deviations = [
        abs(share - 1 / len(r.worker_shares)) for r in rounds for share in r.worker_shares
    ]
    return max(deviations) if deviations else None


def summarize(rounds: Sequence[ArmRound]) -> ArmSummary:
    """Summary of one arm's rounds (all of the same arm, at least one)."""
    workers = max(len(r.worker_streams) for r in rounds)
    streams = tuple(
        sum(r.worker_streams[i] for r in rounds if len(r.worker_streams) == workers)
        for i in range(workers)
    )
    paced = [r.paced for r in rounds if r.paced is not None]
    idle = [r.idle_ext_proc_ms_per_s for r in rounds if r.idle_ext_proc_ms_per_s is not None]
    return ArmSummary(
        arm=rounds[0].arm,
        rounds=len(rounds),
        loaded=_summarize_windows([r.loaded for r in rounds]),
        paced=_summarize_windows(paced) if paced else None,
        idle_ext_proc_ms_per_s=_median(idle) if idle else None,
        worker_streams=streams,
        worst_share_deviation=_worst_deviation(rounds),
    )
