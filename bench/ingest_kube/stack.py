"""The processes of one run: nats-server, ``gie kube serve``, one ingest replica and
one picker following the same pool (its default configuration: the upstream chart's,
no flow control), with the chart's CRDs applied, an InferencePool and ``pods`` Ready
Pods."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes_asyncio import client, config

from bench.local_procs import local_procs
from gie_cli.devstack.ports import free_port

CRDS = Path(__file__).resolve().parents[2] / "helm" / "gie" / "crds"
NAMESPACE = "bench"
POOL = "llama"
LABELS = {"app": "llama"}
PORT = 8000
MERGE = "application/merge-patch+json"


@dataclass
class Stack:
    api: client.ApiClient
    nats_url: str
    pool_key: str
    ingest_admin_port: int
    picker_target: str  # host:port of the picker's ext_proc gRPC server

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)


def pod_ip(index: int) -> str:
    return f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256 + 1}"


async def set_ready(core: client.CoreV1Api, name: str, ip: str, *, ready: bool) -> None:
    """One status write, as a kubelet makes it."""
    status = {
        "phase": "Running",
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }
    patch = {"status": status}
    await core.patch_namespaced_pod_status(name, NAMESPACE, patch, _content_type=MERGE)  # type: ignore[call-arg]


def pod_body(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": LABELS},
        "spec": {"containers": [{"name": "server", "image": "vllm/vllm-openai:v0.11.0"}]},
    }


async def _populate(api: client.ApiClient, pods: int) -> None:
    crds = client.ApiextensionsV1Api(api)
    for path in sorted(CRDS.glob("*.yaml")):
        await crds.create_custom_resource_definition(yaml.safe_load(path.read_text()))
    core = client.CoreV1Api(api)
    await core.create_namespace({"metadata": {"name": NAMESPACE}})  # type: ignore[arg-type]
    pool = {
        "apiVersion": "inference.networking.k8s.io/v1",
        "kind": "InferencePool",
        "metadata": {"name": POOL},
        "spec": {
            "selector": {"matchLabels": LABELS},
            "targetPorts": [{"number": PORT}],
            "endpointPickerRef": {"name": f"{POOL}-epp", "port": {"number": 9002}},
        },
    }
    await client.CustomObjectsApi(api).create_namespaced_custom_object(
        "inference.networking.k8s.io", "v1", NAMESPACE, "inferencepools", pool
    )
    for index in range(pods):
        await core.create_namespaced_pod(NAMESPACE, pod_body(f"pod-{index}"))  # type: ignore[arg-type]
        await set_ready(core, f"pod-{index}", pod_ip(index), ready=True)


@contextlib.asynccontextmanager
async def ingest_stack(*, pods: int, workdir: Path) -> AsyncIterator[Stack]:
    """Start everything, create the objects, yield once ingest is ready; stop by pid."""
    async with local_procs(workdir / "logs") as procs:
        _nats, nats_url = await procs.start_nats(workdir / "jetstream")
        kube_port, kubeconfig = free_port(), workdir / "kubeconfig"
        argv = [sys.executable, "-m", "gie_cli", "kube", "serve", "--no-kubelet"]
        kube = procs.spawn(
            "kube", [*argv, "--port", str(kube_port), "--kubeconfig", str(kubeconfig)]
        )
        await procs.wait_http(f"http://127.0.0.1:{kube_port}/readyz", kube, "gie kube serve", 30)
        configuration = client.Configuration()
        await config.load_kube_config(str(kubeconfig), client_configuration=configuration)
        async with client.ApiClient(configuration) as api:
            await _populate(api, pods)
            admin, picker_admin, grpc_port = free_port(), free_port(), free_port()
            common = {
                **os.environ,
                "GIE_NATS_URL": nats_url,
                "GIE_POOL": f"{NAMESPACE}/{POOL}",
                "GIE_LOG_LEVEL": "warning",
            }
            env = {
                **common,
                "GIE_DISCOVERY": "kubernetes",
                "GIE_KUBECONFIG": str(kubeconfig),
                "GIE_ADMIN_PORT": str(admin),
                "GIE_INSTANCE_ID": "bench-ingest",
            }
            ingest = procs.spawn("ingest", [sys.executable, "-m", "gie_ingest"], env)
            await procs.wait_http(f"http://127.0.0.1:{admin}/readyz", ingest, "ingest", 60)
            picker_env = {
                **common,
                "GIE_ADMIN_PORT": str(picker_admin),
                "GIE_GRPC_HOST": "127.0.0.1",
                "GIE_GRPC_PORT": str(grpc_port),
                "GIE_INSTANCE_ID": "bench-picker",
            }
            picker = procs.spawn("picker", [sys.executable, "-m", "gie_picker"], picker_env)
            await procs.wait_http(f"http://127.0.0.1:{picker_admin}/readyz", picker, "picker", 60)
            yield Stack(
                api,
                nats_url,
                f"{NAMESPACE}/{POOL}",
                admin,
                f"127.0.0.1:{grpc_port}",
            )
