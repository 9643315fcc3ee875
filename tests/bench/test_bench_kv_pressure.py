"""``gie bench --scenario kv-pressure --quick``: its arms run, its second client runs beside
them, and the precise arm's picker is fed the servers' KV events.

The harness is asserted (shape, every arm ran, side traffic counted apart), not how well
any arm routes: benchmarks print numbers.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench.arms.catalog import CONFIGS_DIR
from bench.fleet import FleetSpec, SimFleet
from bench.options import BenchOptions
from gie_cli.devstack import StackOptions, start_stack
from tests.bench.test_bench_quick import FIELDS, REPO, _left_running

pytestmark = pytest.mark.e2e

ARMS = ["gie-precise", "oracle", "round-robin"]
SIDE = {"client_hit_rate", "side_requests", "side_hit_rate"}


@pytest.mark.timeout(300)
def test_quick_kv_pressure_runs_the_chosen_arms_beside_a_second_client(tmp_path: Path) -> None:
    results = tmp_path / "results"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "gie_cli", "bench", "--scenario", "kv-pressure", "--quick"]
    command += ["--json", "--arms", ",".join(ARMS), "--results-dir", str(results)]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=280, env=env, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (line,) = done.stdout.strip().splitlines()
    summary = json.loads(line)
    assert summary["scenario"] == "kv-pressure"
    assert list(summary["arms"]) == ARMS
    for name, arm in summary["arms"].items():
        assert set(arm) >= FIELDS | SIDE, name
        assert (arm["skipped"], arm["error"]) == (None, None), name
        assert arm["success_rate"] == 1.0, (name, arm)
        assert 0 < arm["ttft_p50_s"] <= arm["ttft_p90_s"]
        assert arm["router_cpu_s"] >= 0.0
        # 16 routed requests and the second client's 8 (one per group, four one-offs),
        # which the servers ran too, but which the hit rate leaves out.
        assert arm["side_requests"] == 8
        assert sum(arm["spread"]) == 16 + 8
        assert 0.0 < arm["hit_rate"] < 1.0
        assert arm["hit_rate"] == pytest.approx(arm["client_hit_rate"])
        assert arm["side_hit_rate"] is not None
    recorded = json.loads((results / "results.json").read_text())
    assert recorded["parameters"]["side_one_off"] == 4
    assert _left_running(str(tmp_path)) == []


def _gauge(page: str, name: str) -> float:
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    raise AssertionError(f"{name} not on the page")


@pytest.mark.timeout(180)
async def test_the_precise_arms_picker_follows_the_fleets_kv_events(tmp_path: Path) -> None:
    plan = BenchOptions(scenario="kv-pressure", quick=True, results_dir=tmp_path).plan()
    spec = FleetSpec(count=2, time_scale=0.0, extra_args=plan.fleet.extra_args)
    fleet = await SimFleet.start(spec, tmp_path)
    try:
        assert sorted(fleet.labels) == sorted(fleet.servers)
        options = StackOptions(
            state_dir=tmp_path / "stack",
            endpoints=tuple(fleet.servers),
            endpoint_labels=fleet.labels,
            env={"GIE_CONFIG_FILE": str(CONFIGS_DIR / "precise.yaml")},
            stop_grace_s=5.0,
        )
        stack = await start_stack(options)
        try:
            picker = next(p for p in stack.state.parts if p.name == "picker")
            async with httpx.AsyncClient(timeout=10) as http:
                for server in fleet.servers:  # each server caches something of its own
                    body = {"prompt": f"cached on {server} " * 40, "max_tokens": 1}
                    answer = await http.post(f"http://{server}/v1/completions", json=body)
                    assert answer.status_code == 200
                deadline = time.monotonic() + 30
                known = blocks = 0.0
                while time.monotonic() < deadline and not (known == 2 and blocks > 0):
                    await asyncio.sleep(0.2)
                    page = (await http.get(f"{picker.addresses['admin']}/metrics")).text
                    known = _gauge(page, "gie_prefix_precise_known_endpoints")
                    blocks = _gauge(page, "gie_prefix_precise_index_blocks")
        finally:
            await stack.stop()
    finally:
        await fleet.stop()
    assert known == 2, "the picker never learned both servers' caches"
    assert blocks > 0
