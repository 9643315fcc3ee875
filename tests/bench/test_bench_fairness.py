"""``gie bench --scenario fairness``: the metrics, and the quick run end to end.

The smoke test checks the output's shape, not how fair or fast anything is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.fairness.metrics import Sample, jain_index, percentile, served_while_backlogged
from bench.fairness.runner import config_text
from gie_picker.config.loader import load_text

REPO = Path(__file__).resolve().parents[2]


def test_jain_index_is_one_when_equal_and_one_over_n_when_one_takes_all() -> None:
    assert jain_index([5.0, 5.0]) == pytest.approx(1.0)
    assert jain_index([10.0, 0.0]) == pytest.approx(0.5)
    assert jain_index([]) == 0.0


def test_only_requests_served_while_the_other_tenant_waits_count() -> None:
    samples = [
        Sample(tenant="light", sent_at=0.0, first_token_at=2.0, weighted_tokens=10),
        Sample(tenant="heavy", sent_at=0.0, first_token_at=1.0, weighted_tokens=10),
        Sample(tenant="heavy", sent_at=0.0, first_token_at=3.0, weighted_tokens=10),  # light done
        Sample(tenant="heavy", sent_at=0.5, first_token_at=None, weighted_tokens=10),
    ]
    served = served_while_backlogged(samples, ("light", "heavy"), end=5.0)
    assert served == {"light": 10.0, "heavy": 10.0}


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0


@pytest.mark.parametrize("flow_control", [True, False])
def test_configs_parse(flow_control: bool) -> None:
    config = load_text(config_text(flow_control=flow_control))
    assert config.feature_enabled("flowControl") is flow_control


@pytest.mark.e2e
@pytest.mark.timeout(200)
def test_quick_json_has_the_promised_numbers(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "gie_cli", "bench", "--scenario", "fairness"]
    command += ["--quick", "--json", "--results-dir", str(tmp_path / "results")]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=190, env=env, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    summary = json.loads(lines[0])
    assert isinstance(summary["jain_index"], float)
    p99 = summary["light_ttft_p99_s"]
    assert isinstance(p99["flow_control"], float)
    assert isinstance(p99["no_flow_control"], float)
    assert (tmp_path / "results" / "results.json").is_file()
