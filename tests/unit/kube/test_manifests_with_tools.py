"""kubectl 1.34 and helm v4 (``make k8s-tools``) read the CRDs and fixtures as the tests do.

Without an API server kubectl can still parse manifests client-side: ``kubectl label
--local`` decodes every document and prints it back with one label added. Each object
must come back as PyYAML reads it (no YAML 1.1/1.2 surprises such as an unquoted
``True`` turning into a boolean). helm must lint the chart strictly and serve the five
CRDs from its ``crds/`` folder, which is where ``helm install`` takes them from.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.crds import CRD_DIR, FIXTURES, crd_files, load_crds
from tests.support.k8s_tools import ROOT, helm, kubectl, tool_env

LABEL = "gie.test/parsed"
MANIFESTS = [*crd_files(), *sorted(FIXTURES.glob("*.yaml"))]


def _run(command: list[str | Path], home: Path) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        env=tool_env(home),
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _json_stream(text: str) -> list[dict[str, Any]]:
    """The JSON objects kubectl prints one after the other."""
    decoder = json.JSONDecoder()
    objects, position = [], 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        obj, position = decoder.raw_decode(text, position)
        objects.append(obj)
    return objects


def _without_label(obj: dict[str, Any]) -> dict[str, Any]:
    labels = obj["metadata"]["labels"]
    assert labels.pop(LABEL) == "yes"
    if not labels:
        del obj["metadata"]["labels"]
    return obj


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
def test_kubectl_reads_the_manifest_as_yaml_does(path: Path, tmp_path: Path) -> None:
    printed = _run(
        [kubectl(), "label", "--local", "-f", path, f"{LABEL}=yes", "-o", "json"], tmp_path
    )
    expected = [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    assert [_without_label(obj) for obj in _json_stream(printed)] == expected


def test_helm_lints_the_chart_strictly(tmp_path: Path) -> None:
    output = _run([helm(), "lint", "--strict", CRD_DIR.parent], tmp_path)
    assert "0 chart(s) failed" in output


def test_helm_serves_the_crds_from_the_chart(tmp_path: Path) -> None:
    printed = _run([helm(), "show", "crds", CRD_DIR.parent], tmp_path)
    served = {doc["metadata"]["name"]: doc for doc in yaml.safe_load_all(printed) if doc}
    assert served == load_crds()
