"""What an arm is: a router the benchmark can start in front of a set of servers.

Lifecycle: :meth:`Arm.prepare` once per benchmark (install what it needs; say why it
cannot run instead of raising), then, for every load point, :meth:`Arm.start` in front
of a fresh fleet and :meth:`RunningArm.stop` after the run. ``start`` MUST return only
once the router accepts connections, and MUST leave nothing running when it raises.
Every process an arm starts leads its own process group; the groups are reported so
the runner can charge CPU to the router (``router_groups``) or to what it needs beside
itself (``support_groups``: NATS, Redis, the other gie services).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

__all__ = ["Arm", "RunningArm"]


class RunningArm(Protocol):
    @property
    def url(self) -> str:
        """Base URL clients send OpenAI requests to (``http://127.0.0.1:PORT``)."""
        ...

    @property
    def router_groups(self) -> Mapping[str, int]:
        """Name -> process group id of the router's own processes."""
        ...

    @property
    def support_groups(self) -> Mapping[str, int]:
        """Name -> process group id of processes the router needs beside itself."""
        ...

    async def stop(self) -> None:
        """Stop every process the arm started (idempotent)."""
        ...


class Arm(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str:
        """``gie``, ``round-robin``, ``sglang-router``, ``vllm-router`` or ``oracle``."""
        ...

    @property
    def description(self) -> str: ...

    @property
    def router_cpu_covers(self) -> str:
        """Which processes ``router_cpu_s`` counts, in words."""
        ...

    async def prepare(self) -> str | None:
        """Get ready to start (install, locate binaries); a reason to skip, or None."""
        ...

    def version(self) -> str | None: ...

    async def start(
        self,
        *,
        servers: Sequence[str],
        work_dir: Path,
        model: str,
        endpoint_labels: Mapping[str, Mapping[str, str]] | None = None,
    ) -> RunningArm:
        """Start the router in front of ``servers`` (``ip:port``); raise ArmStartError.

        ``endpoint_labels`` (server -> labels) says more about the servers, e.g. where
        each publishes its KV events (``gie.dev/kv-events``); routers that cannot use
        it ignore it."""
        ...
