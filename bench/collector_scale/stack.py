"""The processes of one benchmark run: nats-server, simulators, one collector."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.local_procs import local_procs
from gie.bus import NatsEventBus
from gie.events import Endpoint, EndpointUpserted
from gie.events.subjects import endpoint_subject
from gie_cli.devstack.ports import free_port

__all__ = ["Stack", "scale_stack"]


@dataclass
class Stack:
    pool: str
    nats_url: str
    addresses: list[str]
    collector_port: int
    pids: dict[str, int] = field(default_factory=dict)  # "collector", "nats", "sims-0", ...


async def _wait_file(path: Path, proc: subprocess.Popen[bytes], timeout_s: float) -> list[str]:
    for _ in range(int(timeout_s * 10)):
        if proc.poll() is not None:
            raise RuntimeError(f"gie-sim exited with {proc.returncode} during start-up")
        if await asyncio.to_thread(path.exists):
            text = await asyncio.to_thread(path.read_text)
            servers: list[str] = json.loads(text)["servers"]
            return servers
        await asyncio.sleep(0.1)
    raise RuntimeError(f"gie-sim not ready within {timeout_s}s")


@contextlib.asynccontextmanager
async def scale_stack(
    *, endpoints: int, sim_procs: int, workdir: Path, collector_env: Mapping[str, str]
) -> AsyncIterator[Stack]:
    """Start everything, publish the endpoints, yield; stop everything by pid."""
    async with local_procs(workdir / "logs") as procs:
        nats, nats_url = await procs.start_nats(workdir / "jetstream")

        sims: list[tuple[str, subprocess.Popen[bytes], Path]] = []
        for index in range(sim_procs):
            count = endpoints // sim_procs + (1 if index < endpoints % sim_procs else 0)
            ready = workdir / f"sims-{index}.json"
            ready.unlink(missing_ok=True)  # a reused workdir holds the last run's file
            argv = [sys.executable, "-m", "gie_sim", "--count", str(count), "--time-scale", "0"]
            argv += ["--ready-file", str(ready), "--log-level", "WARNING"]
            sims.append((f"sims-{index}", procs.spawn(f"sims-{index}", argv), ready))
        addresses = [a for _, proc, ready in sims for a in await _wait_file(ready, proc, 60)]

        pool = "bench/collector-scale"
        async with NatsEventBus(nats_url, name="bench-setup") as bus:
            await bus.ensure_streams()
            for address in addresses:
                event = EndpointUpserted(
                    source="bench", pool=pool, endpoint=Endpoint(address=address)
                )
                await bus.publish(endpoint_subject(pool, address), event)

        port = free_port()
        env = {
            **os.environ,
            "GIE_NATS_URL": nats_url,
            "GIE_POOL": pool,
            "GIE_ADMIN_PORT": str(port),
            "GIE_INSTANCE_ID": "bench-collector",
            "GIE_LOG_LEVEL": "warning",
            **collector_env,
        }
        collector = procs.spawn("collector", [sys.executable, "-m", "gie_metrics_collector"], env)
        await procs.wait_http(f"http://127.0.0.1:{port}/readyz", collector, "collector", 60)
        stack = Stack(pool, nats_url, addresses, port)
        stack.pids = {"nats": nats.pid, "collector": collector.pid}
        stack.pids.update({name: proc.pid for name, proc, _ in sims})
        yield stack
