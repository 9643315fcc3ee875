"""Errors of the benchmark harness.

::

    BenchError                  anything the harness cannot do, said plainly
    ├── ScenarioError           unknown scenario, or one the servers cannot serve
    ├── ArmStartError           an arm's router did not come up (log path and tail)
    └── PeerInstallError        a peer router could not be installed (the arm is skipped)

Errors of the local stack (:class:`gie_cli.devstack.DevstackError`) are translated into
:class:`ArmStartError` at the arm boundary.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ArmStartError", "BenchError", "PeerInstallError", "ScenarioError"]


class BenchError(Exception):
    """Base class of every error the harness raises on purpose."""


class ScenarioError(BenchError):
    """A scenario is unknown, or the simulated servers cannot serve it."""


class ArmStartError(BenchError):
    """An arm's router (or the stack behind it) did not become ready."""

    def __init__(self, arm: str, reason: str, *, log_path: Path | None = None, tail: str = ""):
        where = f" (log: {log_path})" if log_path is not None else ""
        super().__init__(f"{arm}: {reason}{where}")
        self.arm = arm
        self.log_path = log_path
        self.tail = tail


class PeerInstallError(BenchError):
    """A peer router's wheel could not be installed into its virtualenv."""
