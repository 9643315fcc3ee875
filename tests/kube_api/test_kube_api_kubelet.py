"""The kubelet of ``gie kube serve``: Pods naming a running ``gie-sim`` run on it.

A real ``gie kube serve`` (kubelet on by default) and real ``gie-sim`` processes on free
loopback ports, driven through kubernetes-asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes_asyncio import client, watch

from gie_cli.devstack.ports import free_port
from tests.kube_api.kubectl import Kubectl

pytestmark = pytest.mark.asyncio


@contextlib.contextmanager
def simulator(folder: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A ``gie-sim`` on a free port; yields its ``host:port`` and process."""
    port = free_port()
    log = folder / f"sim-{port}.log"
    command = [sys.executable, "-m", "gie_sim", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://{address}/health", timeout=1).status_code == 200:
                    break
            assert process.poll() is None, log.read_text()
            time.sleep(0.05)
        yield address, process
    finally:
        end(process)


def end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def pod_body(name: str, address: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if address:
        metadata["annotations"] = {"gie.dev/simulator": address}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"containers": [{"name": "sim", "image": "gie-sim"}]},
    }


def ready(pod: Any) -> str | None:
    for condition in pod.status.conditions or []:
        if condition.type == "Ready":
            return str(condition.status)
    return None


async def until(core: client.CoreV1Api, namespace: str, name: str, check: Any) -> Any:
    deadline = time.monotonic() + 10
    while True:
        pod = await core.read_namespaced_pod(name, namespace)
        if check(pod):
            return pod
        assert time.monotonic() < deadline, pod.status
        await asyncio.sleep(0.1)


async def test_pod_naming_a_simulator_runs_and_follows_its_health(
    api: client.ApiClient, namespace: str, tmp_path: Path
) -> None:
    core = client.CoreV1Api(api)
    with simulator(tmp_path) as (address, process):
        await core.create_namespaced_pod(namespace, pod_body("sim-pod", address))
        pod = await until(core, namespace, "sim-pod", lambda p: ready(p) == "True")
        assert pod.status.phase == "Running"
        assert pod.status.pod_ip == "127.0.0.1"
        assert pod.spec.node_name == "gie-local"
        assert pod.status.container_statuses[0].ready is True
        assert pod.status.start_time is not None
        version = pod.metadata.resource_version
        await asyncio.sleep(2.5)  # nothing changes: nothing is written
        same = await core.read_namespaced_pod("sim-pod", namespace)
        assert same.metadata.resource_version == version

        events: list[tuple[str, str | None]] = []

        async def watch_pod() -> None:
            stream = watch.Watch()
            async for event in stream.stream(
                core.list_namespaced_pod,
                namespace,
                resource_version=version,
                timeout_seconds=10,
            ):
                events.append((event["type"], ready(event["object"])))
                if ready(event["object"]) == "False":
                    stream.stop()

        watcher = asyncio.create_task(watch_pod())
        await asyncio.sleep(0.3)
        end(process)
        await asyncio.wait_for(watcher, 10)
        assert events == [("MODIFIED", "False")]
        pod = await core.read_namespaced_pod("sim-pod", namespace)
        assert pod.status.phase == "Running"


async def test_pod_naming_nothing_stays_pending(api: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api)
    await core.create_namespaced_pod(namespace, pod_body("plain", None))
    await asyncio.sleep(1.5)
    pod = await core.read_namespaced_pod("plain", namespace)
    assert pod.status.phase == "Pending"
    assert pod.spec.node_name is None
    await core.delete_namespaced_pod("plain", namespace)
    pods = await core.list_namespaced_pod(namespace)
    assert pods.items == []  # unbound: removed at once


async def test_graceful_delete_completes_when_the_simulator_stops(
    api: client.ApiClient, namespace: str, tmp_path: Path
) -> None:
    core = client.CoreV1Api(api)
    with simulator(tmp_path) as (address, process):
        await core.create_namespaced_pod(namespace, pod_body("going", address))
        await until(core, namespace, "going", lambda p: ready(p) == "True")
        deleted = await core.delete_namespaced_pod("going", namespace, grace_period_seconds=60)
        assert deleted.metadata.deletion_timestamp is not None
        await asyncio.sleep(1.5)
        still = await core.list_namespaced_pod(namespace)
        assert [p.metadata.name for p in still.items] == ["going"]
        started = time.monotonic()
        end(process)
        while (await core.list_namespaced_pod(namespace)).items:
            assert time.monotonic() - started < 10
            await asyncio.sleep(0.1)


async def test_kubectl_shows_the_pod_running_and_ready(
    api: client.ApiClient, namespace: str, tmp_path: Path, kubectl: Kubectl
) -> None:
    core = client.CoreV1Api(api)
    with simulator(tmp_path) as (address, _process):
        await core.create_namespaced_pod(namespace, pod_body("shown", address))
        await until(core, namespace, "shown", lambda p: ready(p) == "True")
        shown = kubectl.run("get", "pods", "-n", namespace, "--no-headers").stdout.split()
        assert shown[:3] == ["shown", "1/1", "Running"]
