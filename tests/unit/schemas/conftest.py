"""Paths of the published contract, and the generator script as a module."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "schemas.py"


def load_generator() -> ModuleType:
    """scripts/schemas.py, imported (it is a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("schemas_script", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["schemas_script"] = module
    spec.loader.exec_module(module)
    return module
