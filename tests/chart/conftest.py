"""Every chart test runs once per values file of helm/gie/ci/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.chart import CI_VALUES, Obj, render


@pytest.fixture(params=CI_VALUES, ids=[path.stem for path in CI_VALUES])
def values_file(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


@pytest.fixture
def rendered(values_file: Path) -> tuple[Obj, ...]:
    return render(values_file)
