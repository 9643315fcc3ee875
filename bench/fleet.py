"""A fresh set of simulated vLLM servers for one run: one ``gie_sim`` process.

Started in its own session (so its CPU is one process group), on ephemeral loopback
ports it reports in a ready file; stopped by process group once the run is over. Every
arm at every load point gets a new fleet, so every run starts with cold caches.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.errors import ArmStartError
from bench.processes import stop_group
from gie_cli.devstack import PartStartError
from gie_cli.devstack.precise import kv_labels
from gie_cli.devstack.processes import spawn
from gie_cli.devstack.readiness import wait_until_ready
from gie_cli.devstack.state import ProcessRecord

__all__ = ["FleetSpec", "SimFleet"]


@dataclass(frozen=True, kw_only=True)
class FleetSpec:
    """What every simulated server of a run looks like."""

    count: int = 4
    time_scale: float = 1.0
    model: str = "sim-llama"
    extra_args: tuple[str, ...] = ()  # more gie-sim flags (--num-gpu-blocks 8000 ...)

    def argv(self, ready_file: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gie_sim",
            "--count",
            str(self.count),
            "--time-scale",
            f"{self.time_scale:g}",
            "--model",
            self.model,
            "--ready-file",
            str(ready_file),
            "--log-level",
            "WARNING",
            *self.extra_args,
        ]


def _ready(ready_file: Path) -> dict[str, object]:
    try:
        data = json.loads(ready_file.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _servers(data: dict[str, object]) -> list[str]:
    servers = data.get("servers")
    return [str(s) for s in servers] if isinstance(servers, list) else []


class SimFleet:
    """Running simulated servers: ``servers`` (``ip:port``), ``pgid`` for CPU accounting,
    and ``labels`` (server -> where it publishes KV events, when it does)."""

    def __init__(
        self, record: ProcessRecord, child: subprocess.Popen[bytes], servers: list[str]
    ) -> None:
        self.record = record
        self._child = child
        self.servers = servers
        self.labels: dict[str, dict[str, str]] = {}

    @property
    def pgid(self) -> int:
        return self.record.pid

    @classmethod
    async def start(cls, spec: FleetSpec, work_dir: Path, *, timeout_s: float = 30.0) -> SimFleet:
        """Start the servers; ``work_dir`` (which must exist) gets the ready file and log."""
        ready_file = work_dir / "sims.json"
        log = work_dir / "sims.log"
        child, record = spawn(
            "sims", spec.argv(ready_file), env={**os.environ, "PYTHONUNBUFFERED": "1"}, log_path=log
        )
        fleet = cls(record, child, [])

        async def ready() -> bool:
            data = _ready(ready_file)
            fleet.servers = _servers(data)
            fleet.labels = kv_labels(data)
            return len(fleet.servers) == spec.count

        try:
            await wait_until_ready(
                part="sims", check=ready, child=child, log_path=log, timeout_s=timeout_s
            )
        except PartStartError as exc:
            await fleet.stop()
            raise ArmStartError("sims", exc.reason, log_path=log, tail=exc.log_tail) from exc
        except BaseException:
            await fleet.stop()
            raise
        return fleet

    async def stop(self) -> None:
        await stop_group(self._child)
