"""Options as the reader meets them: defaults written into option help are shown (rich
would take ``[default: ...]`` for markup and drop it), and a bad value is refused
naming the option before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gie_cli.app import app


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (["down"], "[default: $GIE_STATE_DIR or ./.gie/stack]"),
        (["up"], "[default: $GIE_STATE_DIR or ./.gie/stack]"),
        (["status"], "[default: $GIE_STATE_DIR or ./.gie/stack]"),
        (["demo"], "[default: --sims]"),
    ],
)
def test_a_default_named_in_help_is_shown(command: list[str], shown: str) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    assert shown in result.output


def test_a_pool_not_namespace_slash_name_is_refused_before_anything_starts(
    tmp_path: Path,
) -> None:
    state = tmp_path / "stack"
    result = CliRunner().invoke(
        app, ["up", "--pool", "foo", "--state-dir", str(state)], env={"COLUMNS": "400"}
    )
    assert result.exit_code == 2
    assert "--pool" in result.output and "namespace/name" in result.output
    assert not state.exists()  # no process started, nothing recorded
