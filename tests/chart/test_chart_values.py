"""values.schema.json checks every value with an error naming it, and every value is
documented where it is declared (a ``# --`` comment on it or on the group it is in).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.chart import CHART, run_helm

CHARTS = [CHART, *sorted(path for path in (CHART / "charts").iterdir() if path.is_dir())]
KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z][\w-]*):")


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        pytest.param("picker.replicas=3", "additional properties 'replicas'", id="typo"),
        pytest.param(
            "inferencePool.failureMode=Sometimes", "/inferencePool/failureMode", id="failure-mode"
        ),
        pytest.param("global.logLevel=loud", "/global/logLevel", id="log-level"),
        pytest.param("picker.workers=0", "/workers", id="no-workers"),
        pytest.param("global.externalNats.url=http://nats", "/global/externalNats/url", id="url"),
        pytest.param("ingest.poolFile.endpoints[0]=nohost", "/poolFile/endpoints/0", id="addr"),
        pytest.param("flow-controller.replicaCount=-1", "/replicaCount", id="replicas"),
        pytest.param(
            "metrics-collector.metricsFlavour=tgi", "/metricsFlavour", id="unknown-flavour"
        ),
        # Kubernetes accepts only 1 for liveness and startup probes.
        pytest.param(
            "picker.probes.liveness.successThreshold=3",
            "/probes/liveness/successThreshold",
            id="liveness-success-threshold",
        ),
        pytest.param(
            "ingest.probes.liveness.successThreshold=2",
            "/probes/liveness/successThreshold",
            id="ingest-liveness-success-threshold",
        ),
    ],
)
def test_the_schema_rejects_a_wrong_value_naming_it(setting: str, message: str) -> None:
    result = run_helm("template", "gie", CHART, "--set", setting)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


@pytest.mark.parametrize(
    "setting",
    [
        "picker.probes.startup.initialDelaySeconds=0",
        "picker.probes.readiness.successThreshold=2",
        "flow-controller.probes.readiness.initialDelaySeconds=0",
    ],
)
def test_the_schema_accepts_what_kubernetes_accepts(setting: str) -> None:
    result = run_helm("template", "gie", CHART, "--set", setting)
    assert result.returncode == 0, result.stderr


def undocumented(values_text: str) -> list[str]:
    """Keys with no ``# --`` comment above them or above any key they are nested in."""
    lines = values_text.splitlines()
    stack: list[tuple[int, bool]] = []  # (indent, documented) of the enclosing keys
    missing = []
    for number, line in enumerate(lines):
        match = KEY.match(line)
        if not match:
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        above = lines[number - 1].strip() if number else ""
        documented = above.startswith("#") and _comment_block_has_marker(lines, number)
        if not documented and not any(doc for _, doc in stack):
            is_group = line.rstrip().endswith(":")
            if not is_group:
                missing.append(f"{number + 1}: {line.strip()}")
        stack.append((indent, documented))
    return missing


def _comment_block_has_marker(lines: list[str], number: int) -> bool:
    index = number - 1
    while index >= 0 and lines[index].strip().startswith("#"):
        if lines[index].strip().startswith("# --"):
            return True
        index -= 1
    return False


@pytest.mark.parametrize("chart", CHARTS, ids=[path.name for path in CHARTS])
def test_every_value_is_documented_where_declared(chart: Path) -> None:
    assert undocumented((chart / "values.yaml").read_text()) == []


def test_an_undocumented_value_is_found() -> None:
    text = "group:\n  # -- documented\n  a: 1\n  b: 2\n# -- all of it\nc:\n  d: 1\n"
    assert undocumented(text) == ["4: b: 2"]


def schema_gaps(values: Any, schema: dict[str, Any], at: str = "") -> list[str]:
    """Paths of values.yaml that the schema does not declare."""
    if not isinstance(values, dict) or "properties" not in schema:
        return []
    gaps = []
    for key, value in values.items():
        if key not in schema["properties"]:
            gaps.append(f"{at}/{key}")
        else:
            gaps += schema_gaps(value, schema["properties"][key], f"{at}/{key}")
    return gaps


@pytest.mark.parametrize("chart", CHARTS, ids=[path.name for path in CHARTS])
def test_the_schema_declares_every_value(chart: Path) -> None:
    schema = json.loads((chart / "values.schema.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    values = yaml.safe_load((chart / "values.yaml").read_text())
    assert schema_gaps(values, schema) == []
