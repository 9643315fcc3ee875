"""The kubectl 1.34 the tests drive: ``$GIE_KUBECTL``, else ``.tools/bin/kubectl``.

Tests that need it skip, naming ``make k8s-tools``, when neither is there (or fail, when
``GIE_REQUIRE_K8S_TOOLS`` is ``1``, as in CI); a kubectl on PATH may be another version
and is never used.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def find_kubectl() -> Path | None:
    configured = os.environ.get("GIE_KUBECTL")
    candidate = Path(configured) if configured else ROOT / ".tools" / "bin" / "kubectl"
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


def require_kubectl() -> Path:
    found = find_kubectl()
    if found is None:
        message = "kubectl 1.34 not installed: run `make k8s-tools` (or set GIE_KUBECTL)"
        if os.environ.get("GIE_REQUIRE_K8S_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


@dataclass(frozen=True)
class Kubectl:
    """kubectl against one kubeconfig, with its own discovery cache."""

    binary: Path
    kubeconfig: Path
    cache: Path

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "KUBECACHEDIR": str(self.cache),
            "HOME": str(self.cache),
        }

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(self.binary), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=60,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({done.returncode}): {done.stderr}"
            )
        return done

    async def start(self, *args: str) -> asyncio.subprocess.Process:
        """Start a long-running kubectl (``get --watch``), output on a pipe."""
        return await asyncio.create_subprocess_exec(
            str(self.binary),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env(),
        )
