"""The ``oracle`` arm: routes on the simulated servers' true cache contents.

Runs :mod:`bench.arms.oracle_router` as its own process in front of the servers. It reads
every server's cache at every request, so it only works with the simulator; it shows the
limit of prefix-aware routing with gie's weights (no index, no lag, no guess).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench.arms.contracts import RunningArm
from bench.arms.launched import launch_router
from gie_cli.devstack import free_ports

__all__ = ["OracleArm"]

LOOPBACK = "127.0.0.1"


class OracleArm:
    name = "oracle"
    kind = "oracle"
    description = (
        "routes on each simulated server's true cache contents and load "
        "(/sim/kv-cache/match), gie's default weights"
    )
    router_cpu_covers = "the oracle router process (Python)"

    async def prepare(self) -> str | None:
        return None

    def version(self) -> str | None:
        return None

    async def start(
        self,
        *,
        servers: Sequence[str],
        work_dir: Path,
        model: str,
        endpoint_labels: Mapping[str, Mapping[str, str]] | None = None,
    ) -> RunningArm:
        (port,) = free_ports(1)
        argv = [sys.executable, "-m", "bench.arms.oracle_router", "--port", str(port)]
        argv += ["--servers", ",".join(servers)]
        return await launch_router(
            "oracle",
            argv,
            url=f"http://{LOOPBACK}:{port}",
            health_url=f"http://{LOOPBACK}:{port}/health",
            log_path=work_dir / "oracle.log",
            env={"PYTHONUNBUFFERED": "1"},
        )
