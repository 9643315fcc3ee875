"""kubectl and helm for tests, from the project's tools folder (``make k8s-tools``).

Tests use exactly the pinned binaries in ``.tools/bin`` and never a kubectl or helm
found on ``PATH``, so what they judge does not depend on the machine. Without them a
test is skipped with a message naming ``make k8s-tools``; when ``GIE_REQUIRE_K8S_TOOLS``
is ``1`` (CI sets it, after installing them) a missing binary fails the test instead.

``tool_env`` gives a subprocess environment that keeps both tools away from the user's
configuration: a fresh HOME, a KUBECONFIG in it (absent unless the test writes one), and
helm's cache, config and data folders below it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = ROOT / ".tools" / "bin"
REQUIRE_VARIABLE = "GIE_REQUIRE_K8S_TOOLS"


def kubectl() -> Path:
    """The pinned kubectl (1.34); skips (or fails, see the module doc) when absent."""
    return tool("kubectl")


def helm() -> Path:
    """The pinned helm (v4); skips (or fails, see the module doc) when absent."""
    return tool("helm")


def tool(name: str) -> Path:
    """``.tools/bin/<name>`` if it is an executable file there."""
    path = TOOLS_BIN / name
    if path.is_file() and os.access(path, os.X_OK):
        return path
    message = f"{name} is not installed in .tools/bin: run `make k8s-tools`"
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(message)
    pytest.skip(message)


def tool_env(home: Path) -> dict[str, str]:
    """Environment for kubectl and helm with every configuration folder under ``home``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KUBE", "HELM_")) and key != "HOME"
    }
    env.update(
        HOME=str(home),
        KUBECONFIG=str(home / ".kube" / "config"),
        HELM_CACHE_HOME=str(home / "helm" / "cache"),
        HELM_CONFIG_HOME=str(home / "helm" / "config"),
        HELM_DATA_HOME=str(home / "helm" / "data"),
    )
    return env
