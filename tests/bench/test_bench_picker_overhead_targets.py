"""bench.picker_overhead's verdicts: the CPU ratio of the medians decides, each
round's own ratio is shown beside it, and the spread is checked per round."""

from __future__ import annotations

from bench.picker_overhead.summary import ArmSummary, WindowSummary
from bench.picker_overhead.targets import evaluate


def window(*per_round_ms: float) -> WindowSummary:
    ordered = sorted(per_round_ms)
    return WindowSummary(
        requests=1000 * len(per_round_ms),
        failed=0,
        throughput=500.0,
        p50_ms=5.0,
        p99_ms=20.0,
        ext_proc_ms=ordered[len(ordered) // 2],
        ext_proc_ms_min=ordered[0],
        ext_proc_ms_max=ordered[-1],
        ext_proc_ms_rounds=per_round_ms,
        envoy_ms=0.4,
        nats_ms=0.2,
        upstreams_ms=0.2,
        loadgen_ms=0.3,
        busy_cores=1.9,
        other_cores=0.0,
    )


def arm(name: str, loaded: WindowSummary, paced: WindowSummary, shares: int = 1) -> ArmSummary:
    return ArmSummary(
        arm=name,
        rounds=len(loaded.ext_proc_ms_rounds),
        loaded=loaded,
        paced=paced,
        idle_ext_proc_ms_per_s=3.3,
        worker_streams=(1000,) * shares,
        worst_share_deviation=0.0 if shares > 1 else None,
    )


def test_cpu_verdict_is_the_ratio_of_medians_with_each_rounds_ratio_shown() -> None:
    summaries = {
        "bare-1": arm("bare-1", window(1.0, 0.8, 0.7), window(2.0, 2.0, 2.0)),
        "gie-1": arm("gie-1", window(1.2, 1.3, 1.4), window(2.8, 3.2, 2.9)),
    }
    checks = {c.target: c for c in evaluate(summaries, rate=100)}
    saturated = checks["gie-1 ext_proc CPU/request <= 1.5x bare-1's, saturated"]
    assert saturated.measured == ("1.62x (1.300 vs 0.800 ms); by round 1.20x, 1.62x, 2.00x")
    assert saturated.verdict == "NOT MET"
    paced = checks["gie-1 ext_proc CPU/request <= 1.5x bare-1's, at 100 req/s"]
    assert paced.measured.startswith("1.45x (2.900 vs 2.000 ms)")
    assert paced.verdict == "MET"
    assert checks["gie-4 ext_proc CPU/request <= 1.5x bare-4's, saturated"].verdict == (
        "not measured"
    )


def test_one_round_shows_no_per_round_list() -> None:
    summaries = {
        "bare-4": arm("bare-4", window(1.0), window(2.0), shares=4),
        "gie-4": arm("gie-4", window(2.0), window(3.0), shares=4),
    }
    checks = {c.target: c for c in evaluate(summaries, rate=100)}
    saturated = checks["gie-4 ext_proc CPU/request <= 1.5x bare-4's, saturated"]
    assert saturated.measured == "2.00x (2.000 vs 1.000 ms)"
    spread = checks["gie-4: each worker serves 25% +- 5% of streams"]
    assert spread.verdict == "MET"
