"""Flow-controller replicas as subprocesses, and a feeder that gives the pool capacity."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from gie.bus import NatsEventBus
from gie.events import Endpoint, EndpointMetrics, EndpointMetricsObserved, EndpointUpserted
from gie.events.subjects import endpoint_subject, metrics_subject
from gie_cli.devstack.ports import free_port
from gie_flow_controller.settings import FlowControllerSettings


@dataclass
class Replica:
    name: str
    grpc_port: int
    admin_port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def kill(self) -> None:
        """SIGKILL: no lease is released, nothing is flushed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def start_replica(name: str, *, env: dict[str, str], log_dir: Path) -> Replica:
    grpc_port, admin_port = free_port(), free_port()
    log = log_dir / f"{name}.log"
    full_env = {
        **os.environ,
        **env,
        "GIE_INSTANCE_ID": name,
        "GIE_GRPC_PORT": str(grpc_port),
        "GIE_ADMIN_PORT": str(admin_port),
        "GIE_LOG_FORMAT": "console",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gie_flow_controller"],
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Replica(name, grpc_port, admin_port, process, log)


async def _ready(replica: Replica, timeout_s: float) -> bool:
    """True once /readyz answers 200; False if the process exited first."""
    async with httpx.AsyncClient(trust_env=False) as client:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            if replica.process.poll() is not None:
                return False
            with contextlib.suppress(httpx.HTTPError):
                response = await client.get(f"http://127.0.0.1:{replica.admin_port}/readyz")
                if response.status_code == 200:
                    return True
            await asyncio.sleep(0.05)
    raise AssertionError(f"{replica.name} not ready in {timeout_s}s:\n{replica.log.read_text()}")


@contextlib.asynccontextmanager
async def replicas(
    names: list[str], *, env: dict[str, str], log_dir: Path, timeout_s: float = 30.0
) -> AsyncIterator[list[Replica]]:
    """Replicas started and ready. One that exits during start-up (a port picked for it
    was taken meanwhile by another process) is started again on other ports."""
    started = [start_replica(name, env=env, log_dir=log_dir) for name in names]
    try:
        for index, name in enumerate(names):
            for _ in range(3):
                if await _ready(started[index], timeout_s):
                    break
                started[index] = start_replica(name, env=env, log_dir=log_dir)
            else:
                raise AssertionError(f"{name} exited at start:\n{started[index].log.read_text()}")
        yield started
    finally:
        for replica in started:
            replica.stop()


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout_s: float, what: str, every_s: float = 0.05
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def replica_env(
    nats_url: str, redis_url: str, pool: str, config: Path, **extra: str
) -> dict[str, str]:
    """Environment of flow-controller replica processes with quick test timings."""
    return {
        "GIE_NATS_URL": nats_url,
        "GIE_REDIS_URL": redis_url,
        "GIE_POOL": pool,
        "GIE_CONFIG_FILE": str(config),
        "GIE_SHARD_LEASE_S": "1.0",
        "GIE_OUTCOME_POLL_S": "0.2",
        **extra,
    }


async def observe(
    bus: NatsEventBus, pool: str, address: str, *, waiting: int = 0, running: int = 0
) -> None:
    """One scrape of ``address``, taken now (KV-cache 10% used while anything runs)."""
    await bus.publish(
        metrics_subject(pool, address),
        EndpointMetricsObserved(
            source="test",
            pool=pool,
            address=address,
            scraped_at=datetime.now(UTC),
            metrics=EndpointMetrics(
                waiting_queue_size=waiting,
                running_requests=running,
                kv_cache_usage=0.1 if running else 0.0,
            ),
        ),
    )


async def feed_capacity(
    bus: NatsEventBus, pool: str, addresses: list[str], *, every_s: float = 0.3
) -> None:
    """Keep ``addresses`` members of ``pool`` with fresh, idle metrics until cancelled."""
    for address in addresses:
        await bus.publish(
            endpoint_subject(pool, address),
            EndpointUpserted(source="test", pool=pool, endpoint=Endpoint(address=address)),
        )
    while True:
        for address in addresses:
            await observe(bus, pool, address)
        await asyncio.sleep(every_s)


def in_process_settings(
    nats_url: str, redis_url: str, pool: str, instance_id: str
) -> FlowControllerSettings:
    """Settings of one in-process flow-controller replica with quick test timings."""
    return FlowControllerSettings(
        nats_url=nats_url,
        redis_url=redis_url,
        pool=pool,
        instance_id=instance_id,
        admin_port=free_port(),
        grpc_port=free_port(),
        log_format="console",
        outcome_poll_s=0.2,
        housekeeping_s=0.2,
        drain_grace_s=0.5,
    )
