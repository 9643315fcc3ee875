"""``python -m bench.ingest_kube``: a short run (1 Pod, 2 samples) prints every row,
the routing-decision rows included, with a positive latency in each.

This asserts that the harness works against the real processes (nats-server, the
Kubernetes API stand-in, ingest and the picker), not how fast they are.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.ingest_kube.cli import main

pytestmark = pytest.mark.integration

ROWS = {  # row label -> samples expected from 2 samples of 1 Pod
    "Ready=False -> EndpointRemoved": 2,
    "Ready=True -> EndpointUpserted": 2,
    "Pod deleted -> EndpointRemoved": 1,
    "(all of the above: the API write alone)": 5,
    "(all of the above: write answered -> event)": 5,
    "Ready=False -> picker answers 503": 2,
    "Ready=True -> picker routes to the Pod": 2,
    "Pod deleted -> picker answers 503": 1,
}
PROBE_ROW = "(routing probe: between request starts)"


def test_short_run_prints_event_and_routing_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.json"
    assert main(["--pods", "1", "--samples", "2", "--json", str(out)]) == 0
    rows = {}
    for line in capsys.readouterr().out.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 6 and cells[0] == "1":
            rows[cells[1]] = cells[2:]
    for label, samples in ROWS.items():
        n, p50, p99, worst = rows[label]
        assert int(n) == samples, label
        assert 0 < float(p50) <= float(p99) <= float(worst) < 30_000, label
    n, p50, *_ = rows[PROBE_ROW]  # the polling resolution, shown beside the results
    assert int(n) == 0 or float(p50) > 0
    saved = json.loads(out.read_text())["1"]
    assert len(saved["ready_to_routed"]) == 2
    assert all(value > 0 for value in saved["deleted_to_unroutable"])
