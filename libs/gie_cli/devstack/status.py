"""Health of a recorded stack: is each part's process ours and alive, does it answer?

:func:`check_stack` probes every part concurrently (1 s per probe) and returns a
:class:`StackStatus`, whose :meth:`StackStatus.to_json` is what ``gie status --json``
prints: ``{"gateway": ..., "kubeconfig": ..., "services": {<part>: {"pid", "alive",
"healthy", ...}}}`` (``kubeconfig`` is null with file discovery).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx

from gie_cli.devstack.processes import is_ours
from gie_cli.devstack.readiness import local_http_client, probe
from gie_cli.devstack.state import PartKind, StackState
from gie_cli.kube.kubelet import simulator_of

__all__ = ["PartStatus", "StackStatus", "check_stack"]


@dataclass(frozen=True, kw_only=True)
class PartStatus:
    name: str
    kind: PartKind
    pid: int
    alive: bool
    healthy: bool
    addresses: dict[str, str]
    health_url: str
    log: str
    # With Kubernetes discovery: the live Pod (namespace/name) a simulator runs, if any.
    pod: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "pid": self.pid,
            "alive": self.alive,
            "healthy": self.healthy,
            "addresses": dict(self.addresses),
            "pod": self.pod,
            "health_url": self.health_url,
            "log": self.log,
        }


@dataclass(frozen=True, kw_only=True)
class StackStatus:
    gateway: str | None
    state_dir: str
    pool: str
    created_at: str
    parts: list[PartStatus]
    discovery: str = "file"
    kubeconfig: str | None = None  # with Kubernetes discovery: the stack's kubeconfig

    @property
    def healthy(self) -> bool:
        return bool(self.parts) and all(part.healthy for part in self.parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "gateway": self.gateway,
            "healthy": self.healthy,
            "pool": self.pool,
            "discovery": self.discovery,
            "kubeconfig": self.kubeconfig,
            "state_dir": self.state_dir,
            "created_at": self.created_at,
            "services": {part.name: part.to_json() for part in self.parts},
        }


async def _live_pods(client: httpx.AsyncClient, state: StackState) -> dict[str, str]:
    """Simulator endpoint -> ``namespace/name`` of the Pod that runs it (not terminating),
    from the stack's Kubernetes API; empty without one or when it does not answer."""
    api = next((p.addresses["api"] for p in state.parts if p.kind == "kube-api"), None)
    if api is None:
        return {}
    try:
        response = await client.get(f"{api}/api/v1/pods")
        items = response.json().get("items") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return {}
    pods = {}
    for pod in items or []:
        metadata = pod.get("metadata") or {}
        endpoint = simulator_of(pod)
        if endpoint and not metadata.get("deletionTimestamp"):
            pods[endpoint] = f"{metadata.get('namespace')}/{metadata.get('name')}"
    return pods


async def check_stack(state: StackState, *, timeout_s: float = 1.0) -> StackStatus:
    """Probe every part of ``state``; a part is healthy only if its process is ours too."""
    processes = {record.name: record for record in state.processes}
    alive = {name: is_ours(record) for name, record in processes.items()}
    async with local_http_client(timeout_s=timeout_s) as client:
        answers = await asyncio.gather(
            *(probe(client, part.health_url, timeout_s=timeout_s) for part in state.parts)
        )
        pods = await _live_pods(client, state)
    parts = []
    for part, answered in zip(state.parts, answers, strict=True):
        record = processes.get(part.process)
        running = alive.get(part.process, False)
        parts.append(
            PartStatus(
                name=part.name,
                kind=part.kind,
                pid=record.pid if record is not None else -1,
                alive=running,
                healthy=running and answered,
                addresses=part.addresses,
                health_url=part.health_url,
                log=str(record.log) if record is not None else "",
                pod=pods.get(part.addresses.get("endpoint", "")) if part.kind == "sim" else None,
            )
        )
    return StackStatus(
        gateway=state.gateway,
        state_dir=str(state.state_dir),
        pool=state.pool,
        created_at=state.created_at.isoformat(),
        parts=parts,
        discovery=state.discovery,
        kubeconfig=str(state.kubeconfig) if state.kubeconfig is not None else None,
    )
