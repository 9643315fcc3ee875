"""Reports: the --json summary's shape, the markdown table, the PNG plots."""

from __future__ import annotations

import json
from pathlib import Path

from bench.report import load_results, results_table, write_reports
from bench.results import ArmResult, BenchResult, PointResult


def _point(load: float, ttft: float, *, error: str | None = None) -> PointResult:
    return PointResult(
        load=load,
        load_kind="rate",
        requests=10,
        succeeded=0 if error else 10,
        success_rate=0.0 if error else 1.0,
        ttft_p50_s=None if error else ttft / 2,
        ttft_p90_s=None if error else ttft,
        ttft_p99_s=None if error else ttft * 2,
        e2e_p90_s=None if error else 1.5,
        tokens_per_s=0.0 if error else 100 * load,
        hit_rate=None if error else 0.5,
        spread=[] if error else [6, 4],
        router_cpu_s=None if error else 0.25,
        router_cpu_ms_per_request=None if error else 25.0,
        machine_cpu=None if error else 0.4,
        error=error,
    )


def _result() -> BenchResult:
    arms = {
        "gie": ArmResult(
            name="gie",
            kind="gie",
            description="Envoy + gie",
            router_cpu_covers="picker + envoy",
            points=[_point(2, 0.1), _point(4, 0.2)],
        ),
        "round-robin": ArmResult(
            name="round-robin",
            kind="round-robin",
            description="Envoy alone",
            router_cpu_covers="envoy",
            points=[_point(2, 0.1), _point(4, 0.0, error="envoy: did not start | really")],
        ),
        "vllm-router-cache-aware": ArmResult(
            name="vllm-router-cache-aware",
            kind="vllm-router",
            description="vllm-router",
            router_cpu_covers="vllm-router",
            skipped="could not install vllm-router==0.1.17: no wheel",
        ),
    }
    return BenchResult(
        scenario="shared-prefix",
        description="2 groups",
        parameters={"requests": 10},
        command="gie bench --quick",
        started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:01:00+00:00",
        seed=0,
        sims=2,
        time_scale=0.2,
        load_kind="rate",
        machine={"cores": 2, "cpu": "test"},
        arms=arms,
    )


def test_summary_has_the_promised_fields_per_arm() -> None:
    summary = json.loads(json.dumps(_result().summary()))
    assert summary["scenario"] == "shared-prefix"
    assert list(summary["arms"]) == ["gie", "round-robin", "vllm-router-cache-aware"]
    required = {
        "ttft_p90_s",
        "ttft_p99_s",
        "tokens_per_s",
        "hit_rate",
        "success_rate",
        "router_cpu_s",
        "router_cpu_ms_per_request",
        "skipped",
    }
    for arm in summary["arms"].values():
        assert required <= set(arm)
    gie = summary["arms"]["gie"]
    assert gie["router_cpu_ms_per_request"] == 25.0
    assert (gie["load"], gie["ttft_p90_s"], gie["skipped"], gie["error"]) == (4, 0.2, None, None)
    assert [p["load"] for p in gie["points"]] == [2, 4]
    rr = summary["arms"]["round-robin"]
    assert rr["load"] == 2  # the highest load that ran
    assert rr["error"].startswith("envoy: did not start")
    skipped = summary["arms"]["vllm-router-cache-aware"]
    assert skipped["skipped"].startswith("could not install")
    assert skipped["ttft_p90_s"] is None and skipped["points"] == []


def test_healthy_only_when_every_arm_that_ran_ran_every_point() -> None:
    result = _result()
    assert not result.healthy
    arms = dict(result.arms)
    del arms["round-robin"]
    assert result.model_copy(update={"arms": arms}).healthy


def test_markdown_table_has_a_row_per_point_and_skip() -> None:
    table = results_table(_result()).splitlines()
    assert len(table) == 2 + 2 + 2 + 1
    assert table[2] == (
        "| gie | 2 req/s | 100% | 50 / 100 / 200 | 1.50 | 200 | 50.0% | 6/4 | 0.2 | 40% |"
    )
    assert "failed: envoy: did not start \\| really" in table[5]
    assert "skipped: could not install vllm-router==0.1.17" in table[6]


def test_reports_written_and_read_back(tmp_path: Path) -> None:
    written = write_reports(_result(), tmp_path)
    names = sorted(path.name for path in written)
    assert names == [
        "hit_rate.png",
        "results.json",
        "results.md",
        "throughput.png",
        "ttft_p90.png",
    ]
    for path in written:
        if path.suffix == ".png":
            data = path.read_bytes()
            assert data.startswith(b"\x89PNG") and len(data) > 10_000
    assert load_results(tmp_path) == _result()
    assert "![TTFT p90](ttft_p90.png)" in (tmp_path / "results.md").read_text()
