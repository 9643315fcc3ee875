"""``gie bench --quick``: the smoke run works end to end, on any load of the machine.

These tests assert that the harness works (every arm answered, the output has the
promised shape, nothing is left running), not how fast anything is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.errors import ScenarioError
from bench.options import BenchOptions
from bench.runner import run_bench

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ARMS = [
    "gie",
    "round-robin",
    "sglang-router-cache-aware",
    "sglang-router-round-robin",
    "vllm-router-cache-aware",
    "vllm-router-power-of-two",
]
FIELDS = {
    "ttft_p90_s",
    "ttft_p99_s",
    "tokens_per_s",
    "hit_rate",
    "success_rate",
    "router_cpu_s",
    "router_cpu_ms_per_request",
    "skipped",
}


def _left_running(marker: str) -> list[str]:
    """Command lines of live processes that mention ``marker`` (our temp dir)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes().replace(b"\0", b" ")
            state = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state not in ("Z", "X"):
            found.append(cmdline.decode(errors="replace"))
    return found


@pytest.mark.timeout(300)
def test_quick_json_runs_every_arm(tmp_path: Path) -> None:
    results = tmp_path / "results"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "gie_cli", "bench", "--scenario", "shared-prefix"]
    command += ["--quick", "--json", "--results-dir", str(results)]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=280, env=env, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    summary = json.loads(lines[0])
    assert summary["scenario"] == "shared-prefix"
    assert list(summary["arms"]) == ARMS
    for name, arm in summary["arms"].items():
        assert set(arm) >= FIELDS, name
        if arm["skipped"] is not None:
            assert name.startswith(("sglang-router", "vllm-router")), arm["skipped"]
            continue
        assert arm["error"] is None, (name, arm["error"])
        assert arm["success_rate"] == 1.0, (name, arm)
        assert arm["ttft_p90_s"] > 0 and arm["ttft_p99_s"] >= arm["ttft_p90_s"]
        assert arm["tokens_per_s"] > 0
        assert 0.0 < arm["hit_rate"] < 1.0  # groups share prefixes; first prompts miss
        assert arm["router_cpu_s"] >= 0.0
        assert sum(arm["spread"]) == 16  # every request counted by exactly one server
    for name in ("gie", "round-robin"):
        assert summary["arms"][name]["skipped"] is None
    written = sorted(path.name for path in results.iterdir())
    assert written == [
        "hit_rate.png",
        "results.json",
        "results.md",
        "throughput.png",
        "ttft_p90.png",
    ]
    assert _left_running(str(tmp_path)) == []


async def test_an_arm_that_cannot_be_installed_is_skipped_not_dropped(tmp_path: Path) -> None:
    blocker = tmp_path / "venvs-is-a-file"
    blocker.write_text("")
    options = BenchOptions(
        quick=True,
        arms=("round-robin", "vllm-router-power-of-two"),
        results_dir=tmp_path / "results",
        venv_root=blocker,
    )
    result = await run_bench(options)
    assert list(result.arms) == ["round-robin", "vllm-router-power-of-two"]
    skipped = result.arms["vllm-router-power-of-two"]
    assert skipped.skipped is not None and "could not install vllm-router" in skipped.skipped
    assert skipped.points == []
    (point,) = result.arms["round-robin"].points
    assert point.error is None and point.success_rate == 1.0
    assert result.healthy
    assert _left_running(str(tmp_path)) == []


async def test_lora_mix_is_refused_while_the_simulator_has_no_adapters(tmp_path: Path) -> None:
    options = BenchOptions(
        scenario="lora-mix", quick=True, arms=("round-robin",), results_dir=tmp_path / "r"
    )
    with pytest.raises(ScenarioError, match="LoRA"):
        await run_bench(options)
    assert _left_running(str(tmp_path)) == []
