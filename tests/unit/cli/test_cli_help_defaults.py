"""Defaults written into option help reach the reader (rich would take ``[default:
...]`` for markup and drop it)."""

from __future__ import annotations

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
