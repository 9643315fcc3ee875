"""The faults, one at a time: each a small ``inject`` / ``heal`` pair (and an optional
``prepare`` before the measured window), so another way of causing one (say, a model
server's run-time fault modes instead of signals) replaces one function.

Names carry what is hit: the replica kind (``picker``, ``metrics-collector``,
``flow-controller``, ``ingest``), ``nats``, ``redis`` or ``model-server``. A killed
process is started again ``heal_after_s`` after the kill, as a supervisor (a
Deployment's kubelet) would.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.faults.processes import Stopped, kill_process, restart_process, wait_healthy
from bench.faults.servers import ModelServers
from bench.faults.views import read_view
from gie_cli.devstack import RunningStack
from gie_cli.devstack.envoy_config import EXT_PROC_CLUSTER
from gie_cli.devstack.readiness import cluster_hosts_healthy, local_http_client

__all__ = ["FAULTS", "Fault", "FaultContext", "victim"]


@dataclass(kw_only=True)
class FaultContext:
    """What a fault acts on, and what it leaves for its heal and its report."""

    stack: RunningStack
    servers: ModelServers
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)
    stopped: Stopped | None = None
    notes: dict[str, Any] = field(default_factory=dict)  # extra numbers for the report
    # Whether a heal waits for a restarted replica to be ready; if not, its wait is put
    # in ``healing`` (shared by the faults of a run) for the next fault to finish.
    wait_heal: bool = True
    healing: list[asyncio.Task[None]] = field(default_factory=list)
    background: list[asyncio.Task[None]] = field(default_factory=list)


Step = Callable[[FaultContext], Awaitable[None]]


async def _nothing(_ctx: FaultContext) -> None:
    return None


@dataclass(frozen=True, kw_only=True)
class Fault:
    name: str
    inject: Step
    heal: Step = _nothing
    prepare: Step = _nothing  # before the measured window (not counted)
    heal_after_s: float | None = None  # None: the scenario's heal_after_s
    hits_model_server: bool = False  # the first model server (see ``victim``)
    summary: str = ""


# -- stack processes ---------------------------------------------------------------


def _kill(process: str) -> Step:
    async def inject(ctx: FaultContext) -> None:
        ctx.stopped = await kill_process(ctx.stack, process)

    return inject


async def _until_ready(ctx: FaultContext, name: str) -> None:
    await wait_healthy(ctx.stack, name)
    await _envoy_pickers_healthy(ctx)


async def _restart(ctx: FaultContext) -> None:
    """Start the killed replica again; wait until it (and Envoy's view of it) is healthy,
    or with ``wait_heal`` off leave that wait to the next fault's start."""
    if ctx.stopped is None:
        return
    stopped, ctx.stopped = ctx.stopped, None
    ctx.children.append(restart_process(ctx.stack, stopped))
    if ctx.wait_heal:
        await _until_ready(ctx, stopped.name)
    else:
        ctx.healing.append(asyncio.create_task(_until_ready(ctx, stopped.name)))


async def _restart_server(ctx: FaultContext) -> None:
    """NATS or Redis again: the stack needs it, so always waited for."""
    if ctx.stopped is None:
        return
    stopped, ctx.stopped = ctx.stopped, None
    ctx.children.append(restart_process(ctx.stack, stopped))
    await _until_ready(ctx, stopped.name)


async def _envoy_pickers_healthy(ctx: FaultContext, *, timeout_s: float = 30.0) -> None:
    envoy = next(part for part in ctx.stack.state.parts if part.kind == "envoy")
    deadline = time.monotonic() + timeout_s
    async with local_http_client() as client:
        while not await cluster_hosts_healthy(client, envoy.addresses["admin"], EXT_PROC_CLUSTER):
            if time.monotonic() > deadline:
                raise RuntimeError("Envoy did not judge every picker healthy again")
            await asyncio.sleep(0.05)


def _replica_kill(service: str) -> Fault:
    replica = f"{service}-1"  # the second replica; the first one keeps serving
    return Fault(
        name=f"{service}-sigkill",
        inject=_kill(replica),
        heal=_restart,
        summary=f"SIGKILL of {replica} (its whole process group), restarted after",
    )


def _server_restart(process: str) -> Fault:
    return Fault(
        name=f"{process}-restart",
        inject=_kill(process),
        heal=_restart_server,
        summary=f"{process} SIGKILLed, started again on its port with its store",
    )


# -- a picker joining under load -----------------------------------------------------

JOINER = "picker-1"


async def _watch_join(ctx: FaultContext, admin: str, pool_size: int, started: float) -> None:
    """Poll the joining picker: when it first answered ready, and whether its view then
    held every endpoint with metrics (else it could route on a partial view)."""
    whole_at: float | None = None
    async with local_http_client(timeout_s=1.0) as client:
        while True:
            view = await read_view(client, admin)
            if whole_at is None and view is not None and len(view["endpoints"]) >= pool_size:
                whole_at = time.monotonic()
            try:
                ready = (await client.get(f"{admin}/readyz")).status_code == 200
            except httpx.HTTPError:
                ready = False
            if ready:
                view = await read_view(client, admin)
                partial = view is None or len(view["endpoints"]) < pool_size
                ctx.notes["ready_s"] = round(time.monotonic() - started, 3)
                ctx.notes["whole_view_s"] = (
                    round(whole_at - started, 3) if whole_at is not None else None
                )
                ctx.notes["partial_view_at_ready"] = partial
                return
            await asyncio.sleep(0.02)


async def _join(ctx: FaultContext) -> None:
    if ctx.stopped is None:
        raise RuntimeError("picker-join: no stopped picker to start")
    admin = next(p.addresses["admin"] for p in ctx.stack.state.parts if p.name == JOINER)
    started = time.monotonic()
    ctx.children.append(restart_process(ctx.stack, ctx.stopped))
    ctx.stopped = None
    pool_size = len(ctx.servers.addresses)
    ctx.background.append(asyncio.create_task(_watch_join(ctx, admin, pool_size, started)))


async def _joined(ctx: FaultContext) -> None:
    await asyncio.gather(*ctx.background)
    await wait_healthy(ctx.stack, JOINER)
    await _envoy_pickers_healthy(ctx)


async def _join_prepare(ctx: FaultContext) -> None:
    ctx.stopped = await kill_process(ctx.stack, JOINER)
    await asyncio.sleep(1.0)  # Envoy ejects it; the load settles on the other replica


# -- model servers --------------------------------------------------------------------
# Signals stand in for the simulator's run-time fault modes: a real crash, and a
# server that accepts connections but never answers.


# Long enough to see whether the picker stops choosing the server (the target is 2 s).
MODEL_SERVER_FAULT_S = 3.0


def victim(servers: ModelServers) -> str:
    """The model server the model-server faults hit."""
    return servers.addresses[0]


def _victim(ctx: FaultContext) -> str:
    return victim(ctx.servers)


async def _server_kill(ctx: FaultContext) -> None:
    await ctx.servers.kill(_victim(ctx))


async def _server_back(ctx: FaultContext) -> None:
    await ctx.servers.restart(_victim(ctx))


async def _server_stall(ctx: FaultContext) -> None:
    ctx.servers.signal(_victim(ctx), signal.SIGSTOP)


async def _server_resume(ctx: FaultContext) -> None:
    ctx.servers.signal(_victim(ctx), signal.SIGCONT)


async def _set_metrics_fault(ctx: FaultContext, mode: str) -> None:
    async with local_http_client() as client:
        response = await client.post(f"http://{_victim(ctx)}/sim/faults", json={"mode": mode})
        response.raise_for_status()


async def _garbage_metrics(ctx: FaultContext) -> None:
    await _set_metrics_fault(ctx, "garbage")


async def _good_metrics(ctx: FaultContext) -> None:
    await _set_metrics_fault(ctx, "none")


FAULTS: dict[str, Fault] = {
    fault.name: fault
    for fault in (
        _replica_kill("picker"),
        _replica_kill("metrics-collector"),
        _replica_kill("flow-controller"),
        _replica_kill("ingest"),
        _server_restart("nats"),
        _server_restart("redis"),
        Fault(
            name="model-server-sigkill",
            hits_model_server=True,
            heal_after_s=MODEL_SERVER_FAULT_S,
            inject=_server_kill,
            heal=_server_back,
            summary="SIGKILL of one model server's process, started again after",
        ),
        Fault(
            name="model-server-stalled",
            hits_model_server=True,
            heal_after_s=MODEL_SERVER_FAULT_S,
            inject=_server_stall,
            heal=_server_resume,
            summary="SIGSTOP of one model server (connections accepted, nothing answered), "
            "SIGCONT after",
        ),
        Fault(
            name="model-server-garbage-metrics",
            hits_model_server=True,
            heal_after_s=MODEL_SERVER_FAULT_S,
            inject=_garbage_metrics,
            heal=_good_metrics,
            summary="one model server's /metrics answers 200 with a body that is not "
            "Prometheus text",
        ),
        Fault(
            name="picker-join",
            prepare=_join_prepare,
            inject=_join,
            heal=_joined,
            heal_after_s=0.0,
            summary="a picker replica starts under load (killed before the window)",
        ),
    )
}
