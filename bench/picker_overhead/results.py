"""What one phase of load, one measured window and one arm produced (plain data, no I/O)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ArmRound", "CpuSeconds", "PhaseResult", "Window"]


@dataclass(frozen=True, kw_only=True, slots=True)
class PhaseResult:
    """One phase of the load generator (see ``loadgen.py`` for the wire form)."""

    requests: int
    ok: int
    statuses: dict[str, int]
    duration_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    client_cpu_s: float

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PhaseResult:
        return cls(
            requests=int(data["requests"]),
            ok=int(data["ok"]),
            statuses={str(k): int(v) for k, v in data["statuses"].items()},
            duration_s=float(data["duration_s"]),
            p50_ms=float(data["p50_ms"]),
            p90_ms=float(data["p90_ms"]),
            p99_ms=float(data["p99_ms"]),
            mean_ms=float(data["mean_ms"]),
            max_ms=float(data["max_ms"]),
            client_cpu_s=float(data["client_cpu_s"]),
        )

    @property
    def failed(self) -> int:
        return self.requests - self.ok

    @property
    def throughput(self) -> float:
        """Successful requests per second of wall time."""
        return self.ok / self.duration_s if self.duration_s > 0 else 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class CpuSeconds:
    """CPU time (user + system) spent during a measured window, by role."""

    ext_proc: float = 0.0  # every ext_proc server process of the arm (all workers)
    envoy: float = 0.0
    nats: float = 0.0
    upstreams: float = 0.0
    loadgen: float = 0.0
    machine: float = 0.0  # every core of the machine, busy time (from /proc/stat)

    @property
    def ours(self) -> float:
        return self.ext_proc + self.envoy + self.nats + self.upstreams + self.loadgen


@dataclass(frozen=True, kw_only=True, slots=True)
class Window:
    """One measured phase and the CPU spent while it ran."""

    phase: PhaseResult
    cpu: CpuSeconds

    def per_request_ms(self, seconds: float) -> float:
        return seconds * 1000 / self.phase.requests if self.phase.requests else 0.0

    @property
    def busy_cores(self) -> float:
        duration = self.phase.duration_s
        return self.cpu.machine / duration if duration > 0 else 0.0

    @property
    def other_load_cores(self) -> float:
        """Cores kept busy by processes outside this benchmark during the window."""
        duration = self.phase.duration_s
        return max(0.0, self.cpu.machine - self.cpu.ours) / duration if duration > 0 else 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class ArmRound:
    """One arm measured once: saturated (closed loop) and, optionally, at a fixed rate."""

    arm: str
    round: int
    loaded: Window
    paced: Window | None = None
    idle_ext_proc_ms_per_s: float | None = None  # ext_proc CPU with no requests at all
    # Streams each ext_proc worker served during the loaded phase (empty: no ext_proc).
    worker_streams: tuple[int, ...] = field(default=())

    @property
    def worker_shares(self) -> tuple[float, ...]:
        total = sum(self.worker_streams)
        return tuple(count / total for count in self.worker_streams) if total else ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["worker_shares"] = list(self.worker_shares)
        return data
