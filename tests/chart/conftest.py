"""Every chart test runs once per values file of helm/gie/ci/, rendered for a cluster
with the Prometheus Operator's API (so the ServiceMonitor is rendered and checked too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.chart import CI_VALUES, SERVICE_MONITOR_API, Obj, render


@pytest.fixture(params=CI_VALUES, ids=[path.stem for path in CI_VALUES])
def values_file(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


@pytest.fixture
def rendered(values_file: Path) -> tuple[Obj, ...]:
    return render(values_file, api_versions=(SERVICE_MONITOR_API,))
