"""``gie sim fault``: a recorded simulator broken and healed through its process's admin."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from gie_cli.app import app
from gie_cli.devstack import PartRecord, StackState, StateStore


@pytest.fixture
def sim_process(tmp_path: Path) -> Iterator[dict[str, object]]:
    ready = tmp_path / "ready.json"
    command = [sys.executable, "-m", "gie_sim", "--count", "1", "--time-scale", "0"]
    command += ["--ready-file", str(ready), "--admin", "127.0.0.1:0"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "gie-sim did not start"
            time.sleep(0.05)
        yield json.loads(ready.read_text())
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)


def _record(root: Path, info: dict[str, object]) -> str:
    (server,) = info["servers"]  # type: ignore[misc]
    store = StateStore(root)
    store.save(
        StackState(state_dir=root, data_dir=root / "data", pool="default/p").with_parts(
            PartRecord(
                name="sim-0",
                kind="sim",
                process="sims",
                addresses={"endpoint": server, "sim-admin": f"http://{info['admin']}"},
                health_url=f"http://{server}/health",
            )
        )
    )
    return str(server)


def test_a_recorded_simulator_is_broken_and_healed(
    sim_process: dict[str, object], tmp_path: Path
) -> None:
    server = _record(tmp_path / "stack", sim_process)
    runner = CliRunner()
    state = ["--state-dir", str(tmp_path / "stack")]
    result = runner.invoke(app, ["sim", "fault", "sim-0", "refuse", *state])
    assert result.exit_code == 0, result.output
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{server}/health", timeout=2)
    result = runner.invoke(app, ["sim", "fault", server, "none", *state])  # by endpoint
    assert result.exit_code == 0, result.output
    assert httpx.get(f"http://{server}/health", timeout=2).status_code == 200


def test_an_unknown_simulator_is_named_with_the_known_ones(
    sim_process: dict[str, object], tmp_path: Path
) -> None:
    _record(tmp_path / "stack", sim_process)
    result = CliRunner().invoke(
        app, ["sim", "fault", "sim-7", "hang", "--state-dir", str(tmp_path / "stack")]
    )
    assert result.exit_code == 1
    assert "no simulator 'sim-7'" in result.output
    assert "sim-0" in result.output
