"""`gie bench` options as a user types them: what --help says, and where values land.

The benchmark itself is not run: the command's runner is replaced by one that keeps
the parsed options.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bench.arms import build_arms
from bench.arms.gie_arm import GieArm
from bench.options import BenchOptions
from gie_cli import bench_commands
from gie_cli.app import app

runner = CliRunner()
WIDE = {"COLUMNS": "400", "NO_COLOR": "1"}  # one line per option


def help_line(option: str) -> str:
    result = runner.invoke(app, ["bench", "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if re.match(rf"\W*{option}\b", line)]
    return line


def test_help_says_the_workers_option_sets_picker_worker_processes() -> None:
    line = help_line("--gie-workers")
    assert "worker processes" in line and "replicas behind Envoy" not in line
    alias = help_line("--gie-replicas")
    assert "Deprecated" in alias and "--gie-workers" in alias


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[BenchOptions]:
    seen: list[BenchOptions] = []

    def keep(options: BenchOptions, **_: Any) -> None:
        seen.append(options)

    monkeypatch.setattr(bench_commands, "_bench", keep)
    monkeypatch.setattr(bench_commands, "run_command", lambda command: 0)
    return seen


@pytest.mark.parametrize(
    ("args", "workers", "deprecated"),
    [
        ([], (1,), False),
        (["--gie-workers", "1,2"], (1, 2), False),
        (["--gie-replicas", "2"], (2,), True),
    ],
    ids=["default", "workers", "deprecated-replicas"],
)
def test_the_value_sets_the_picker_workers_of_the_gie_arms(
    parsed: list[BenchOptions],
    tmp_path: Path,
    args: list[str],
    workers: tuple[int, ...],
    deprecated: bool,
) -> None:
    result = runner.invoke(app, ["bench", "--arms", "gie", *args], env=WIDE)
    assert result.exit_code == 0, result.output
    (options,) = parsed
    assert options.gie_workers == workers
    arms = build_arms(options.arms, gie_workers=options.gie_workers, venv_root=tmp_path)
    assert [arm.picker_workers for arm in arms if isinstance(arm, GieArm)] == list(workers)
    warned = "--gie-replicas is deprecated" in result.stderr
    assert warned is deprecated


def test_both_spellings_at_once_is_an_error(parsed: list[BenchOptions]) -> None:
    result = runner.invoke(app, ["bench", "--gie-workers", "2", "--gie-replicas", "2"], env=WIDE)
    assert result.exit_code == 2
    assert "not both" in result.output + result.stderr
    assert parsed == []
