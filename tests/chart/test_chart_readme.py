"""helm/gie/README.md is generated from the values' comments and kept current."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from types import ModuleType

from tests.support.k8s_tools import ROOT

SCRIPT = ROOT / "scripts" / "chart_readme.py"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("chart_readme", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["chart_readme"] = module
    spec.loader.exec_module(module)
    return module


def test_the_committed_readme_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_a_value_row_has_its_path_default_and_comment() -> None:
    text = (
        "group:\n"
        "  # -- Pods of it,\n"
        "  # spread.\n"
        "  replicas: 3\n"
        "  undocumented: 1\n"
        "# Not for the table.\n"
        "# -- Image tag.\n"
        "tag: v1\n"
    )
    rows = generator().documented_values(text)
    assert [(r.path, r.default, r.description) for r in rows] == [
        ("group.replicas", "`3`", "Pods of it, spread."),
        ("tag", '`"v1"`', "Image tag."),
    ]
