"""Errors raised by the local stack.

Hierarchy::

    DevstackError                  base of everything this package raises
     ├── BinaryNotFoundError       nats-server / redis-server / envoy could not be located
     ├── PartStartError            a part did not become ready (carries its log tail)
     ├── KubeSeedError             the stack's Kubernetes objects could not be created
     ├── StackAlreadyRunningError  the state dir already records a live stack
     └── NoStackError              the state dir records no stack
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "BinaryNotFoundError",
    "DevstackError",
    "KubeSeedError",
    "NoStackError",
    "PartStartError",
    "StackAlreadyRunningError",
]


class DevstackError(Exception):
    """Base class for local-stack errors."""


class BinaryNotFoundError(DevstackError):
    """A server binary the stack needs is not installed."""


class PartStartError(DevstackError):
    """A part of the stack exited or did not become ready before its deadline."""

    def __init__(self, part: str, reason: str, *, log_path: Path | None, log_tail: str) -> None:
        self.part = part
        self.reason = reason
        self.log_path = log_path
        self.log_tail = log_tail
        where = f" (log: {log_path})" if log_path is not None else ""
        super().__init__(f"{part}: {reason}{where}")


class KubeSeedError(DevstackError):
    """With Kubernetes discovery: the CRDs are missing, or the stack's API stand-in refused
    (or did not run) one of its objects: the CRDs, the Pods, the InferencePool."""


class StackAlreadyRunningError(DevstackError):
    """The state dir already holds a stack whose processes are alive."""


class NoStackError(DevstackError):
    """No stack is recorded in the state dir."""
