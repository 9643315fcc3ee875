"""The Helm chart rendered by the pinned helm (``make k8s-tools``), for tests.

``render`` runs ``helm template`` over ``helm/gie`` with one values file of
``helm/gie/ci/`` (and extra ``--set`` pairs) and returns the rendered objects. The
release is ``gie`` in namespace ``inference``.
"""

from __future__ import annotations

import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.support.k8s_tools import ROOT, helm, tool_env

CHART = ROOT / "helm" / "gie"
CI_VALUES = sorted((CHART / "ci").glob("*.yaml"))
# The Prometheus Operator's API, which the chart's ServiceMonitor needs.
SERVICE_MONITOR_API = "monitoring.coreos.com/v1/ServiceMonitor"
RELEASE = "gie"
NAMESPACE = "inference"

Obj = dict[str, Any]


def run_helm(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """helm with the given arguments, with every configuration folder in a fresh HOME."""
    with tempfile.TemporaryDirectory() as home:
        return subprocess.run(
            [str(helm()), *(str(arg) for arg in args)],
            capture_output=True,
            text=True,
            env=tool_env(Path(home)),
            cwd=ROOT,
            timeout=120,
            check=False,
        )


@cache
def render(values: Path, *sets: str, api_versions: tuple[str, ...] = ()) -> tuple[Obj, ...]:
    """Every object ``helm template`` renders with this values file (and --set pairs),
    for a cluster that also serves ``api_versions`` (``group/version/Kind``)."""
    args: list[str | Path] = ["template", RELEASE, CHART, "-n", NAMESPACE, "-f", values]
    for pair in sets:
        args += ["--set", pair]
    for api in api_versions:
        args += ["--api-versions", api]
    result = run_helm(*args)
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def of_kind(objects: tuple[Obj, ...], kind: str) -> list[Obj]:
    return [obj for obj in objects if obj["kind"] == kind]


def named(objects: tuple[Obj, ...], kind: str, name: str) -> Obj:
    matches = [obj for obj in of_kind(objects, kind) if obj["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} rendered"
    return matches[0]


def env_of(container: Obj) -> dict[str, str]:
    """The container's literal environment values (valueFrom ones left out)."""
    return {item["name"]: item["value"] for item in container.get("env", []) if "value" in item}
