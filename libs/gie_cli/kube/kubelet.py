"""A small kubelet for the local stack: Pods that name a simulator run on it.

A Pod names its simulator with the annotation ``gie.dev/simulator: "HOST:PORT"`` (the
address of a running ``gie-sim``). Every ``interval`` seconds the kubelet looks at the
store's Pods (in process) and, for each Pod carrying the annotation:

* binds it to the node ``gie-local`` (``spec.nodeName``), as a Binding would, and
  writes its first status in the same write;
* probes ``GET http://HOST:PORT/health``; the Pod's status gets ``podIP``/``podIPs`` and
  ``hostIP`` = HOST, ``phase: Running``, ``startTime``, container statuses and the
  conditions PodScheduled, Initialized, ContainersReady and Ready, the last two
  following the probe. Later status is written through the ``/status`` update path, and
  only when it changes, so each change is one MODIFIED event;
* when the Pod is being deleted gracefully, removes it as soon as the probe fails (the
  simulator was stopped); otherwise the reaper removes it when the grace period ends.

Pods without the annotation are left alone: they stay Pending and unbound, so deleting
them removes them at once (their grace period is 0, see
:mod:`gie_cli.kube.pod_strategy`).

Concurrency: the probes run concurrently on the server's loop; each write is a
synchronous step that re-reads the Pod first, so writes by clients in between win.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import aiohttp

from gie.clock import Clock
from gie_cli.kube.objects import Obj, format_time
from gie_cli.kube.registry import Registry
from gie_cli.kube.resource_types import POD_TYPE
from gie_cli.kube.status import KubeError
from gie_cli.kube.targets import Target, WriteOptions

__all__ = ["NODE_NAME", "SIMULATOR_ANNOTATION", "Kubelet"]

SIMULATOR_ANNOTATION = "gie.dev/simulator"
NODE_NAME = "gie-local"


class Kubelet:
    """Runs annotated Pods on their simulators; call :meth:`run` as a task."""

    def __init__(
        self, registry: Registry, clock: Clock, *, interval: float = 1.0, timeout: float = 0.5
    ) -> None:
        self.registry = registry
        self.store = registry.store
        self.clock = clock
        self.interval = interval
        self.timeout = timeout

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                await self.sync(session)
                await self.clock.sleep(self.interval)

    async def sync(self, session: aiohttp.ClientSession) -> None:
        """One pass over the managed Pods."""
        pods = [pod for pod in self.store.items(POD_TYPE.key) if simulator_of(pod)]
        healthy = await asyncio.gather(*(self._probe(session, simulator_of(p)) for p in pods))
        for pod, ok in zip(pods, healthy, strict=True):
            metadata = pod["metadata"]
            namespace, name = metadata["namespace"], metadata["name"]
            current = self.store.get(POD_TYPE.key, namespace, name)
            if current is None or current["metadata"]["uid"] != metadata["uid"]:
                continue
            if current["metadata"].get("deletionTimestamp"):
                if not ok and not current["metadata"].get("finalizers"):
                    self.store.remove(POD_TYPE.key, namespace, name)
                continue
            if current["spec"].get("nodeName"):
                self._write_status(namespace, name, ok)
            else:
                self._bind(current, ok)

    async def _probe(self, session: aiohttp.ClientSession, address: str) -> bool:
        try:
            async with session.get(f"http://{address}/health") as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return False

    def _bind(self, pod: Obj, ok: bool) -> None:
        """Bind and start in one write (one MODIFIED event), as a Binding would."""
        pod["spec"]["nodeName"] = NODE_NAME
        pod["status"] = _status(pod, pod.get("status") or {}, ok, format_time(self.clock.now()))
        self.store.put(POD_TYPE.key, pod)

    def _write_status(self, namespace: str, name: str, ok: bool) -> None:
        pod = self.store.get(POD_TYPE.key, namespace, name)
        if pod is None:
            return
        target = Target(POD_TYPE, "v1", namespace, name, "status")
        old: dict[str, Any] = pod.get("status") or {}
        status = _status(pod, old, ok, format_time(self.clock.now()))
        if status == old:
            return
        pod["status"] = status
        try:
            self.registry.write_update(target, pod, self.registry.existing(target), WriteOptions())
        except KubeError:
            return  # changed meanwhile or refused: the next pass tries again


def simulator_of(pod: Obj) -> str:
    """The ``HOST:PORT`` a Pod names, or ``""``."""
    annotations = pod["metadata"].get("annotations") or {}
    return str(annotations.get(SIMULATOR_ANNOTATION) or "")


def _status(pod: Obj, old: dict[str, Any], ok: bool, now: str) -> dict[str, Any]:
    host = simulator_of(pod).rsplit(":", 1)[0].strip("[]")
    status = copy.deepcopy(old)
    status.update(
        phase="Running",
        podIP=host,
        podIPs=[{"ip": host}],
        hostIP=host,
        hostIPs=[{"ip": host}],
        startTime=old.get("startTime") or now,
    )
    previous = {c["type"]: c for c in old.get("conditions") or []}
    wanted = {"PodScheduled": True, "Initialized": True, "ContainersReady": ok, "Ready": ok}
    conditions = []
    for kind, value in wanted.items():
        text = "True" if value else "False"
        before = previous.get(kind)
        if before is not None and before.get("status") == text:
            conditions.append(before)
        else:
            conditions.append({"type": kind, "status": text, "lastTransitionTime": now})
    status["conditions"] = conditions
    started = old.get("startTime") or now
    status["containerStatuses"] = [
        {
            "name": container["name"],
            "image": container.get("image", ""),
            "imageID": "",
            "ready": ok,
            "started": True,
            "restartCount": 0,
            "state": {"running": {"startedAt": started}},
        }
        for container in pod["spec"].get("containers") or []
    ]
    return status
