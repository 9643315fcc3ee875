"""Helpers for ingest's Kubernetes-mode tests: CRDs, manifests, Pod status, a recorder.

Pods are created without the simulator annotation (the stand-in's kubelet leaves them
alone) and their status is written through the ``status`` subresource, as a kubelet
would: an IP and a ``Ready`` condition.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from gie.bus import STATE, Deliver, NatsEventBus
from gie.events import Event
from gie.events.subjects import pool_filter
from gie.view import PoolView

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / "helm" / "gie" / "crds"
POOL_GROUP = "inference.networking.k8s.io"
LLM_D = "llm-d.ai"


async def apply_crds(api: client.ApiClient, *, skip: tuple[str, ...] = ()) -> None:
    """Create the chart's CRDs (those not named in ``skip``); existing ones are kept."""
    crds = client.ApiextensionsV1Api(api)
    for path in sorted(CRDS.glob("*.yaml")):
        if path.stem in skip:
            continue
        with contextlib.suppress(ApiException):
            await crds.create_custom_resource_definition(yaml.safe_load(path.read_text()))


def pool(name: str, labels: dict[str, str], ports: tuple[int, ...] = (8000,)) -> dict[str, Any]:
    return {
        "apiVersion": f"{POOL_GROUP}/v1",
        "kind": "InferencePool",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": labels},
            "targetPorts": [{"number": port} for port in ports],
            "endpointPickerRef": {"name": f"{name}-epp", "port": {"number": 9002}},
        },
    }


def pod(name: str, labels: dict[str, str], *, finalizer: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": labels}
    if finalizer:
        metadata["finalizers"] = ["gie.dev/test-hold"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"containers": [{"name": "server", "image": "vllm/vllm-openai:v0.11.0"}]},
    }


def objective(name: str, pool_name: str, priority: int | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"poolRef": {"name": pool_name}}
    if priority is not None:
        spec["priority"] = priority
    return {
        "apiVersion": f"{LLM_D}/v1alpha2",
        "kind": "InferenceObjective",
        "metadata": {"name": name},
        "spec": spec,
    }


def rewrite(name: str, pool_name: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": f"{LLM_D}/v1alpha2",
        "kind": "InferenceModelRewrite",
        "metadata": {"name": name},
        "spec": {"poolRef": {"name": pool_name}, "rules": rules},
    }


async def set_status(
    api: client.ApiClient, namespace: str, name: str, *, ip: str, ready: bool
) -> None:
    """Write the Pod's status as a kubelet would: Running, an IP, Ready or not."""
    status = {
        "phase": "Running",
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }
    core = client.CoreV1Api(api)
    current = await core.read_namespaced_pod(name, namespace)
    body = api.sanitize_for_serialization(current)
    body["status"] = status
    await core.replace_namespaced_pod_status(name, namespace, body)


async def ready_pod(
    api: client.ApiClient,
    namespace: str,
    name: str,
    labels: dict[str, str],
    ip: str,
    *,
    finalizer: bool = False,
) -> None:
    await client.CoreV1Api(api).create_namespaced_pod(
        namespace, pod(name, labels, finalizer=finalizer)
    )
    await set_status(api, namespace, name, ip=ip, ready=True)


class Recorder:
    """Every state event of one pool, in stream order, and the view they fold into."""

    def __init__(self, pool_key: str) -> None:
        self.pool = pool_key
        self.events: list[Event] = []
        self.view = PoolView(pool_key)

    def _on(self, event: Event) -> None:
        self.events.append(event)
        self.view.apply(event)

    async def start(self, bus: NatsEventBus) -> None:
        await bus.ensure_streams()
        following = await bus.follow(STATE, pool_filter(self.pool), self._on, deliver=Deliver.ALL)
        await following.caught_up.wait()

    def addresses(self) -> list[str]:
        return [state.address for state in self.view.endpoints()]

    async def wait_for(
        self, predicate: Callable[[], bool], what: str, timeout_s: float = 15.0
    ) -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"timed out waiting for {what}; endpoints {self.addresses()}, "
                    f"events {[type(e).__name__ for e in self.events]}"
                )
            await asyncio.sleep(0.02)

    async def wait_addresses(self, expected: list[str], timeout_s: float = 15.0) -> None:
        await self.wait_for(
            lambda: self.addresses() == sorted(expected), f"endpoints {sorted(expected)}", timeout_s
        )


@contextlib.contextmanager
def ingest_process(
    name: str, *, env: dict[str, str], logs: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m gie_ingest`` with ``env`` (GIE_* settings) added to ours."""
    with (logs / f"{name}.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gie_ingest"],
            env={**os.environ, "GIE_INSTANCE_ID": name, **env},
            stdout=log,
            stderr=log,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
