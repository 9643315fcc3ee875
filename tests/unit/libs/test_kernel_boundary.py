"""The kernel (``libs/gie``) imports no service, no simulator, no benchmark, no CLI.

Every module of the kernel is parsed with :mod:`ast` and every import in it is checked,
wherever it sits: at the top, inside a function, under ``if TYPE_CHECKING:``, or as an
``importlib.import_module("...")`` call with a literal name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gie

KERNEL = Path(gie.__file__).resolve().parent

# Top-level packages the kernel must never import: they all build on the kernel.
FORBIDDEN = frozenset(
    {
        "gie_cli",
        "gie_picker",
        "gie_flow_controller",
        "gie_metrics_collector",
        "gie_ingest",
        "gie_sim",
        "bench",
        "tests",
    }
)


def _dynamic_import(node: ast.Call) -> str | None:
    """The module named by ``importlib.import_module("x")`` / ``__import__("x")``."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in {"import_module", "__import__"} or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def imported_modules(source: str) -> list[tuple[int, str]]:
    """Every absolute module the source imports, with its line, in source order."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and (module := _dynamic_import(node)) is not None:
            found.append((node.lineno, module))
    return sorted(found)


def forbidden_imports(source: str) -> list[tuple[int, str]]:
    return [(line, mod) for line, mod in imported_modules(source) if mod.split(".")[0] in FORBIDDEN]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("import gie_picker\n", [(1, "gie_picker")], id="import"),
        pytest.param(
            "import os, gie_sim.engine as e\n", [(1, "gie_sim.engine")], id="import-alias"
        ),
        pytest.param("from bench.runner import run\n", [(1, "bench.runner")], id="from-import"),
        pytest.param(
            "def f():\n    from gie_cli.devstack import ports\n",
            [(2, "gie_cli.devstack")],
            id="inside-function",
        ),
        pytest.param(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import gie_ingest\n",
            [(3, "gie_ingest")],
            id="type-checking-block",
        ),
        pytest.param(
            "import importlib\nm = importlib.import_module('gie_flow_controller.app')\n",
            [(2, "gie_flow_controller.app")],
            id="import-module-call",
        ),
        pytest.param("from tests.support import servers\n", [(1, "tests.support")], id="tests"),
        pytest.param(
            "import gie.bus\nfrom gie.events import subjects\nfrom . import bench\n",
            [],
            id="kernel-and-relative",
        ),
        pytest.param("import benchmark\nimport gie_pickers\n", [], id="similar-names"),
    ],
)
def test_the_checker_finds_every_kind_of_import(
    source: str, expected: list[tuple[int, str]]
) -> None:
    assert forbidden_imports(source) == expected


def test_the_kernel_imports_no_service_simulator_benchmark_or_cli() -> None:
    files = sorted(KERNEL.rglob("*.py"))
    assert KERNEL / "events" / "__init__.py" in files  # really the kernel's sources
    problems = [
        f"{path.relative_to(KERNEL.parent)}:{line} imports {module}"
        for path in files
        for line, module in forbidden_imports(path.read_text(encoding="utf-8"))
    ]
    assert not problems, "the kernel (gie) must not import these:\n" + "\n".join(problems)
