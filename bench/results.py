"""What a benchmark produced: per arm, per load point; saved as ``results.json``.

:class:`BenchResult` is the whole run (scenario, settings, machine, every arm);
:meth:`BenchResult.summary` is the compact object ``gie bench --json`` prints:
``{"scenario": ..., "arms": {"<arm>": {"ttft_p90_s": ..., ..., "skipped": null}}}``,
whose per-arm numbers are those of the arm's highest load point, with every point
under ``"points"``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ArmResult", "BenchResult", "PointResult"]

_SUMMARY_FIELDS = (
    "ttft_p50_s",
    "ttft_p90_s",
    "ttft_p99_s",
    "e2e_p90_s",
    "tokens_per_s",
    "hit_rate",
    "success_rate",
    "router_cpu_s",
    "router_cpu_ms_per_request",
    "spread",
    "machine_cpu",
    "client_hit_rate",
    "side_requests",
    "side_hit_rate",
)


class PointResult(BaseModel):
    """One arm at one load (a request rate or a concurrency)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    load: float
    load_kind: Literal["rate", "concurrency"]
    requests: int
    succeeded: int = 0
    success_rate: float = 0.0
    duration_s: float = 0.0  # first send to last completion
    ttft_p50_s: float | None = None
    ttft_p90_s: float | None = None
    ttft_p99_s: float | None = None
    e2e_p50_s: float | None = None
    e2e_p90_s: float | None = None
    e2e_p99_s: float | None = None
    ttft_share_p50: float | None = None  # median TTFT / e2e: near 1 if the router buffers
    tokens_per_s: float = 0.0  # output tokens of successful requests per second
    requests_per_s: float = 0.0  # successful requests per second
    hit_rate: float | None = None  # servers' prefix-cache hits / queries (tokens)
    client_hit_rate: float | None = None  # usage.cached_tokens / prompt_tokens
    served: dict[str, int] = Field(default_factory=dict)  # server -> requests (x-served-by)
    spread: list[int] = Field(default_factory=list)  # requests per server (servers' counters)
    spread_cv: float | None = None  # coefficient of variation of ``spread``
    router_cpu_s: float | None = None  # the router's own processes (see router_parts)
    router_parts: dict[str, float] = Field(default_factory=dict)
    router_cpu_ms_per_request: float | None = None
    support_cpu_s: float | None = None  # processes the router needs beside itself
    sims_cpu_s: float | None = None
    loadgen_cpu_s: float | None = None
    machine_cpu: float | None = None  # busy fraction of all cores during the run
    lateness_p99_s: float | None = None  # how late the load generator sent requests
    errors: dict[str, int] = Field(default_factory=dict)  # error text -> count (top 5)
    # The second client's traffic straight to the servers (scenarios that have one); the
    # servers count it too, so spread includes it while hit_rate leaves it out.
    side_requests: int = 0
    side_success_rate: float | None = None
    side_hit_rate: float | None = None
    side_ttft_p90_s: float | None = None
    error: str | None = None  # the point could not run at all

    @property
    def ran(self) -> bool:
        return self.error is None


class ArmResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: str
    description: str
    router_cpu_covers: str  # which processes router_cpu_s counts
    version: str | None = None
    skipped: str | None = None  # why the arm did not run
    points: list[PointResult] = Field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        ran = [point for point in self.points if point.ran]
        last = ran[-1] if ran else None
        out: dict[str, Any] = {
            field: getattr(last, field) if last is not None else None for field in _SUMMARY_FIELDS
        }
        failed = [point for point in self.points if not point.ran]
        out["skipped"] = self.skipped
        out["error"] = failed[0].error if failed else None
        out["load"] = last.load if last is not None else None
        out["points"] = [
            {"load": p.load, **{f: getattr(p, f) for f in _SUMMARY_FIELDS}, "error": p.error}
            for p in self.points
        ]
        return out


class BenchResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario: str
    description: str
    parameters: dict[str, Any]
    command: str
    started_at: str
    finished_at: str
    seed: int
    sims: int
    time_scale: float
    load_kind: Literal["rate", "concurrency"]
    machine: dict[str, Any]
    arms: dict[str, ArmResult]

    def summary(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "load_kind": self.load_kind,
            "arms": {name: arm.summary() for name, arm in self.arms.items()},
        }

    @property
    def healthy(self) -> bool:
        """Every arm that was not skipped ran all its points."""
        return all(p.ran for arm in self.arms.values() if arm.skipped is None for p in arm.points)
