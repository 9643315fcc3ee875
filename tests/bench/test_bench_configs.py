"""The example EndpointPickerConfigs shipped for ``--gie-config`` load in the picker."""

from __future__ import annotations

from pathlib import Path

import pytest

from gie_picker.config import load_config

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "bench" / "configs").glob("*.yaml"))


def test_there_are_example_configs() -> None:
    assert [path.name for path in CONFIGS] == [
        "approx.yaml",
        "precise.yaml",
        "prefix-heavy.yaml",
        "queue-only.yaml",
    ]


@pytest.mark.parametrize("path", CONFIGS, ids=[path.stem for path in CONFIGS])
def test_example_config_loads(path: Path) -> None:
    config = load_config(path)
    assert config is not None
