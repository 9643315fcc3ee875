"""``gie bench --scenario faults``: how a fault's numbers are counted, and a quick run of
the picker kill end to end (the output's shape, not how well the stack fared)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.faults.catalog import FAULTS
from bench.faults.load import Outcome
from bench.faults.measure import fault_result, recovery_s
from bench.faults.runner import selected_faults
from bench.faults.views import ViewSample, diverged_positions, positions_behind

REPO = Path(__file__).resolve().parents[2]


def _view(digest: str, state: int, routing: int = 5) -> dict[str, object]:
    return {"digest": digest, "positions": {"pool state": state, "routing": routing}}


def _sample(at: float, *views: dict[str, object] | None) -> ViewSample:
    return ViewSample(at=at, views={f"picker-{i}": view for i, view in enumerate(views)})


@pytest.mark.parametrize(
    ("views", "equal"),
    [
        pytest.param((_view("a", 3), _view("a", 3)), True, id="same-digest-same-position"),
        pytest.param((_view("a", 3), _view("b", 4)), False, id="one-event-ahead"),
        pytest.param((_view("a", 3), _view("b", 3)), False, id="diverged"),
        pytest.param((_view("a", 3), None), True, id="a-dead-replica-does-not-count"),
        pytest.param((None, None), False, id="no-replica-answers"),
    ],
)
def test_a_sample_is_equal_only_when_every_answering_replica_agrees(
    views: tuple[dict[str, object] | None, ...], equal: bool
) -> None:
    assert _sample(0.0, *views).equal is equal


def test_replicas_behind_the_furthest_count_their_missing_sequences() -> None:
    sample = _sample(0.0, _view("a", 10, routing=40), _view("a", 10, routing=37))
    assert positions_behind(sample) == 3


def test_in_flight_and_new_failures_are_told_apart() -> None:
    outcomes = [
        Outcome(sent_at=0.0, done_at=0.5, status="200"),  # before the fault
        Outcome(sent_at=0.8, done_at=1.1, status="503"),  # in flight at 1.0
        Outcome(sent_at=0.9, done_at=1.2, status="200"),  # in flight, fine
        Outcome(sent_at=1.05, done_at=1.1, status="503"),  # new
        Outcome(sent_at=1.2, done_at=4.0, status="200"),  # new, slow
        Outcome(sent_at=1.3, done_at=1.4, status="timeout"),  # new
    ]
    settled = _sample(9.0, _view("a", 3), _view("a", 3))
    result = fault_result(
        outcomes, [], settled, fault_at=1.0, load_end=5.0, window_s=1.0, slow_s=2.0, max_gap=5
    )
    assert result["sent"] == 5
    assert (result["failed_in_flight"], result["failed_new"], result["failed"]) == (1, 2, 3)
    assert result["failed_by_status"] == {"503": 2, "timeout": 1}
    assert result["slow"] == 1
    assert result["failed_before"] == 0
    assert result["digests_equal"] is True
    assert result["events_lost"] == 0


def test_recovery_is_the_first_window_without_failures_with_replicas_in_step() -> None:
    outcomes = [
        Outcome(sent_at=1.0 + 0.1 * i, done_at=1.05 + 0.1 * i, status="200") for i in range(40)
    ]
    outcomes[3].status = "503"  # ends at 1.35
    # picker-1 is frozen at position 10 until 3.0, then catches up and moves on.
    samples = [
        _sample(1.0 + 0.25 * i, _view("a", 20 + i), _view("b", 10 if i < 8 else 19 + i))
        for i in range(16)
    ]
    found = recovery_s(outcomes, samples, fault_at=1.0, load_end=5.0, window_s=1.0, max_gap=5)
    assert found == pytest.approx(1.05, abs=0.06)  # the window [2.05, 3.05) holds 3.0
    never = recovery_s(outcomes, samples[:8], fault_at=1.0, load_end=5.0, window_s=1.0, max_gap=5)
    assert never is None


def test_two_views_at_one_position_with_different_digests_are_a_divergence() -> None:
    samples = [
        _sample(0.0, _view("a", 3), _view("b", 4)),
        _sample(0.2, _view("b", 4), _view("c", 5)),
        _sample(0.4, _view("x", 5), _view("c", 5)),
    ]
    assert diverged_positions(samples) == 1
    assert diverged_positions(samples[:2]) == 0


def test_every_fault_names_what_it_hits_and_unknown_names_are_refused() -> None:
    kinds = ("picker", "metrics-collector", "flow-controller", "ingest", "nats", "redis")
    assert all(any(k in n for k in (*kinds, "model-server")) for n in FAULTS)
    for kind in kinds:
        assert any(name.startswith(kind) for name in FAULTS), kind
    with pytest.raises(ValueError, match=r"unknown fault.*no-such-fault"):
        selected_faults(("picker-sigkill", "no-such-fault"))


@pytest.mark.e2e
@pytest.mark.timeout(150)
def test_quick_picker_kill_reports_its_failures(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "gie_cli", "bench", "--scenario", "faults", "--quick"]
    command += ["--json", "--faults", "picker-sigkill", "--results-dir", str(tmp_path / "out")]
    started = time.monotonic()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=140, env=env, cwd=tmp_path, check=False
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    faults = json.loads(lines[0])["faults"]
    assert list(faults) == ["picker-sigkill"]
    row = faults["picker-sigkill"]
    assert row["sent"] > 0
    for key in ("failed", "failed_new", "failed_in_flight", "events_lost"):
        assert isinstance(row[key], int) and row[key] >= 0, key
    assert row["failed"] == row["failed_new"] + row["failed_in_flight"]
    assert row["recovery_s"] is None or row["recovery_s"] >= 0
    assert isinstance(row["digests_equal"], bool)
    assert (tmp_path / "out" / "results.json").is_file()
    print(f"\npicker-sigkill (quick, {elapsed:.0f}s): {json.dumps(row)}")
