"""``gie config validate FILE``."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from gie_cli.config_commands import config_app
from gie_picker.config import default_config_text

runner = CliRunner()


def test_valid_file_prints_the_effective_yaml(tmp_path: Path) -> None:
    path = tmp_path / "epp.yaml"
    path.write_text(default_config_text())
    result = runner.invoke(config_app, ["validate", str(path)])
    assert result.exit_code == 0, result.stderr
    document = yaml.safe_load(result.stdout)
    assert document["kind"] == "EndpointPickerConfig"
    assert [p["name"] for p in document["plugins"]][-2:] == [
        "single-profile-handler",
        "max-score-picker",
    ]
    assert document["saturationDetector"]["metricsStalenessThreshold"] == "200ms"


def test_invalid_file_lists_each_problem_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "epp.yaml"
    path.write_text(
        "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\n"
        "plugins:\n- type: no-such-scorer\n"
        "- {type: prefix-cache-scorer, parameters: {blockSize: 0}}\n"
    )
    result = runner.invoke(config_app, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"{path}: invalid EndpointPickerConfig"
    assert lines[1].startswith('plugins[0] (name "no-such-scorer", type "no-such-scorer"): type:')
    assert lines[2] == (
        'plugins[1] (name "prefix-cache-scorer", type "prefix-cache-scorer"): '
        "parameters.blockSize: Input should be greater than 0"
    )


def test_warnings_go_to_stderr_and_the_yaml_stays_clean(tmp_path: Path) -> None:
    path = tmp_path / "epp.yaml"
    path.write_text(
        "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\n"
        "featureGates: [dataLayer]\n"
    )
    result = runner.invoke(config_app, ["validate", str(path)])
    assert result.exit_code == 0
    assert result.stderr.startswith('warning: featureGates: "dataLayer" is not a feature gate')
    assert yaml.safe_load(result.stdout)["featureGates"] == []


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(config_app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: no such file: {tmp_path / 'nope.yaml'}"


def test_an_out_of_range_saturation_value_is_printed_with_its_field_path(tmp_path: Path) -> None:
    path = tmp_path / "epp.yaml"
    path.write_text(
        "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\n"
        "saturationDetector: {queueDepthThreshold: 0, kvCacheUtilThreshold: .nan}\n"
    )
    result = runner.invoke(config_app, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1:] == [
        "saturationDetector.kvCacheUtilThreshold: Input should be a finite number"
    ]
