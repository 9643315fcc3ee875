"""Create a stack's Kubernetes objects in its API stand-in, and wait for its Pods.

:func:`apply_crds` creates the CustomResourceDefinitions (an existing one is kept) and
waits until the InferencePool API is served; :func:`create_objects` creates Namespaces,
Pods and custom resources; :func:`wait_pods_ready` polls until every named Pod has the
condition ``Ready=True`` (the stand-in's kubelet sets it from the simulator's health).
They speak plain JSON over HTTP to ``http://127.0.0.1:PORT`` (no authentication), as
kubectl does; a refused object is a :class:`~gie_cli.devstack.errors.KubeSeedError`
quoting the server's Status message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from typing import Any

import httpx

from gie_cli.devstack.errors import KubeSeedError
from gie_cli.devstack.kube_objects import POOL_GROUP, POOL_VERSION

__all__ = ["apply_crds", "create_objects", "object_path", "wait_pods_ready"]

_POLL_S = 0.1
_CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
# The kinds a stack creates: kind -> plural.
_PLURALS = {
    "Namespace": "namespaces",
    "Pod": "pods",
    "InferencePool": "inferencepools",
    "InferenceObjective": "inferenceobjectives",
    "InferenceModelRewrite": "inferencemodelrewrites",
}


def object_path(obj: dict[str, Any]) -> str:
    """The collection URL path an object is created under (``/api/v1/namespaces/...``)."""
    api_version, kind = str(obj["apiVersion"]), str(obj["kind"])
    plural = _PLURALS.get(kind)
    if plural is None:
        raise ValueError(f"kind {kind!r} is not one the stack creates")
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    if kind == "Namespace":
        return f"{prefix}/namespaces"
    return f"{prefix}/namespaces/{obj['metadata']['namespace']}/{plural}"


def _describe(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    where = f"{metadata['namespace']}/" if "namespace" in metadata else ""
    return f"{obj.get('kind')} {where}{metadata.get('name')}"


def _refusal(obj: dict[str, Any], response: httpx.Response) -> KubeSeedError:
    try:
        message = str(response.json().get("message") or response.text)
    except ValueError:
        message = response.text
    return KubeSeedError(
        f"the Kubernetes API refused {_describe(obj)}: {response.status_code} {message}"
    )


async def _create(
    client: httpx.AsyncClient, path: str, obj: dict[str, Any], *, exists_ok: bool
) -> None:
    try:
        response = await client.post(path, json=obj)
    except httpx.HTTPError as exc:
        raise KubeSeedError(f"cannot create {_describe(obj)}: {exc}") from exc
    if response.status_code == 409 and exists_ok:
        return
    if response.status_code not in (200, 201, 202):
        raise _refusal(obj, response)


async def apply_crds(
    client: httpx.AsyncClient, crds: Sequence[dict[str, Any]], *, timeout_s: float
) -> None:
    """Create each CRD (kept when it exists) and wait until the pool's API is served."""
    if not crds:
        raise KubeSeedError("no CustomResourceDefinitions to apply")
    for crd in crds:
        await _create(client, _CRD_PATH, crd, exists_ok=True)
    served = f"/apis/{POOL_GROUP}/{POOL_VERSION}"
    deadline = time.monotonic() + timeout_s
    while (await client.get(served)).status_code != 200:
        if time.monotonic() >= deadline:
            raise KubeSeedError(f"{served} not served {timeout_s:g}s after applying the CRDs")
        await asyncio.sleep(_POLL_S)


async def create_objects(client: httpx.AsyncClient, objects: Iterable[dict[str, Any]]) -> None:
    """Create each object in order; an existing Namespace is fine, anything else is not."""
    for obj in objects:
        await _create(client, object_path(obj), obj, exists_ok=obj["kind"] == "Namespace")


def _ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


async def wait_pods_ready(
    client: httpx.AsyncClient, namespace: str, names: Sequence[str], *, timeout_s: float
) -> None:
    """Return once every Pod in ``names`` is Ready; KubeSeedError naming the others after
    ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    waiting = set(names)
    while True:
        response = await client.get(f"/api/v1/namespaces/{namespace}/pods")
        if response.status_code == 200:
            items = response.json().get("items") or []
            ready = {pod["metadata"]["name"] for pod in items if _ready(pod)}
            waiting = set(names) - ready
            if not waiting:
                return
        if time.monotonic() >= deadline:
            raise KubeSeedError(
                f"Pods not Ready after {timeout_s:g}s: {', '.join(sorted(waiting))} "
                f"(namespace {namespace})"
            )
        await asyncio.sleep(_POLL_S)
