"""Errors of the picker-overhead benchmark.

::

    OverheadBenchError      anything the benchmark cannot do, said plainly
    ├── ServerStartError    a process of an arm did not become ready (log path and tail)
    └── LoadError           the load generator failed, or requests failed during warm-up

Errors of the local-stack helpers (:class:`gie_cli.devstack.PartStartError`) are translated
into :class:`ServerStartError` where a process is waited on.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["LoadError", "OverheadBenchError", "ServerStartError"]

_TAIL_CHARS = 3000  # of a log's tail quoted in a message (log lines can be long)


class OverheadBenchError(Exception):
    """Base class of every error the benchmark raises on purpose."""


class ServerStartError(OverheadBenchError):
    """A server (Envoy, an ext_proc server, nats-server, the upstreams) did not come up."""

    def __init__(self, name: str, reason: str, *, log_path: Path, log_tail: str) -> None:
        self.name = name
        self.log_path = log_path
        self.log_tail = log_tail[-_TAIL_CHARS:]
        super().__init__(f"{name}: {reason} (log: {log_path})\n{self.log_tail}")


class LoadError(OverheadBenchError):
    """The load generator exited, timed out, or saw failed requests while warming up."""
