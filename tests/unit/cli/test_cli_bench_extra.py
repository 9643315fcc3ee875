"""``gie bench`` and the ``bench`` extra: a clear error naming the extra when it is missing."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import tomllib
from importlib.machinery import ModuleSpec
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gie_cli import app
from gie_cli.bench_commands import BENCH_EXTRA_MODULES

REPO = Path(__file__).resolve().parents[3]

runner = CliRunner()


def _without(monkeypatch: pytest.MonkeyPatch, absent: str) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> ModuleSpec | None:
        return None if name.split(".", maxsplit=1)[0] == absent else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.mark.parametrize("args", [["--list"], ["--quick", "--json"]], ids=["list", "run"])
def test_without_the_extra_gie_bench_names_it_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    _without(monkeypatch, "matplotlib")
    result = runner.invoke(app, ["bench", *args])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert result.stdout == ""
    assert "'bench' extra (missing: matplotlib)" in result.stderr
    assert "pip install 'gie[bench]'" in result.stderr


def test_with_the_extra_gie_bench_lists_scenarios_and_arms() -> None:
    result = runner.invoke(app, ["bench", "--list"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("shared-prefix")
    assert "arm kinds: " in result.stdout


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def test_the_checked_modules_are_what_the_bench_extra_installs() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    extra = pyproject["project"]["optional-dependencies"]["bench"]
    own = {_name(r) for r in extra} - {"gie"}  # gie[local]: the stack, checked by devstack
    providers = importlib.metadata.packages_distributions()
    checked = {_name(dist) for module in BENCH_EXTRA_MODULES for dist in providers[module]}
    assert checked == own
