"""The chart's configuration really runs: processes started from the rendered manifests.

The chart is rendered in standalone mode (with external datastores, two picker workers,
one model-server Pod serving on two ports) with ports chosen free on this machine, once
per way ingest discovers the pool. Each gie container's command and environment is
taken from the rendered Deployment as it is; only what a cluster would provide is
replaced: the files mounted from ConfigMaps are written to a folder and their paths
pointed there, cluster DNS names and 0.0.0.0 become 127.0.0.1, the pod name (downward
API) is made up, and ingest's ServiceAccount becomes a kubeconfig of the project's
Kubernetes API stand-in (``gie kube serve``), into which the chart's CRDs, the rendered
InferencePool (kubernetes mode) and the model-server Pod are applied with kubectl; its
kubelet runs the Pod on the simulator. Envoy runs the rendered bootstrap. Requests
through it must all succeed: a wrong variable name, port, flag or selector in the
chart fails here.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gie_cli.devstack.ports import free_port_block, free_ports
from tests.kube_api.kubectl import Kubectl
from tests.kube_api.server_process import kube_serve
from tests.support.chart import CHART, NAMESPACE, Obj, named, of_kind, render
from tests.support.chart_processes import (
    config_maps,
    container_env,
    mounted_folders,
    secrets,
    started,
    wait_for,
)
from tests.support.k8s_tools import kubectl

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
REQUESTS = 50
LOCAL = "127.0.0.1"
MODEL_SERVER_LABELS = {"app": "vllm"}


def cluster_names() -> list[str]:
    return [
        f"gie-{name}.{NAMESPACE}.svc" for name in ("picker-headless", "pool", "flow-controller")
    ]


def localise(text: str) -> str:
    """Cluster addresses and wildcard binds to loopback."""
    for name in cluster_names():
        text = text.replace(name, LOCAL)
    return text.replace("0.0.0.0", LOCAL)


def values(tmp: Path, nats_url: str, redis_url: str, sims: list[int], discovery: str) -> Path:
    picker_admin, picker_workers = free_port_block(2), free_port_block(2)
    envoy_port, envoy_admin = free_ports(2)
    chart_values: dict[str, Any] = {
        "global": {
            "externalNats": {"url": nats_url},
            "externalRedis": {"url": redis_url},
            "logFormat": "console",
            "streamReplicas": 1,
            "flowControllerGrpcPort": free_ports(1)[0],
        },
        "nats": {"enabled": False},
        "valkey": {"enabled": False},
        "inferencePool": {
            "create": discovery == "kubernetes",  # selector: a cluster without the CRDs
            "selector": {"matchLabels": MODEL_SERVER_LABELS},
            "targetPorts": [{"number": port} for port in sims],
        },
        "picker": {
            "workers": 2,
            "ports": {
                "grpc": free_ports(1)[0],
                "admin": picker_admin,
                "workerBase": picker_workers,
            },
        },
        "flow-controller": {"ports": {"admin": free_ports(1)[0]}},
        "metrics-collector": {"ports": {"admin": free_ports(1)[0]}},
        "ingest": {
            "ports": {"admin": free_ports(1)[0]},
            "discovery": {
                "mode": discovery,
                "selector": MODEL_SERVER_LABELS if discovery == "selector" else {},
                "targetPorts": sims if discovery == "selector" else [],
            },
        },
        "standalone": {"enabled": True, "port": envoy_port, "adminPort": envoy_admin},
    }
    path = tmp / "values.yaml"
    path.write_text(yaml.safe_dump(chart_values))
    return path


def process_env(
    pod: Obj,
    container: Obj,
    files: Path,
    maps: dict[str, Any],
    secret_data: dict[str, dict[str, bytes]],
) -> dict[str, str]:
    """The container's environment, with ConfigMap and Secret mounts made files under
    ``files`` (the picker and the collector read the one prefix-key Secret)."""
    mounts = mounted_folders(
        pod, container, files / container["name"], maps, secret_data=secret_data
    )
    return container_env(container, f"{container['name']}-0", mounts, localise)


def model_server_pod(simulator: str) -> Obj:
    """A Pod the InferencePool selects, run by the stand-in's kubelet on ``simulator``."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "vllm-0",
            "labels": MODEL_SERVER_LABELS,
            "annotations": {"gie.dev/simulator": simulator},
        },
        "spec": {"containers": [{"name": "vllm", "image": "vllm/vllm-openai:v0.11.0"}]},
    }


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    """The stand-in API (with its kubelet) and the chart's CRDs, for every test here."""
    folder = tmp_path_factory.mktemp("kube")
    with kube_serve(folder / "api") as served:
        api = Kubectl(kubectl(), served.kubeconfig, folder / "kubectl-cache")
        api.run("create", "namespace", NAMESPACE)
        api.run("apply", "-f", str(CHART / "crds"))
        yield api


def apply_pool(api: Kubectl, rendered: tuple[Obj, ...], simulator: str) -> None:
    """The rendered InferencePool, if any, and one model-server Pod run on ``simulator``."""
    objects = [*of_kind(rendered, "InferencePool"), model_server_pod(simulator)]
    api.run("apply", "-n", NAMESPACE, "-f", "-", stdin=yaml.safe_dump_all(objects))


def first_success(gateway: str, client: httpx.Client) -> None:
    """Until ingest has published the Pod's endpoints and a request goes through."""
    deadline = time.monotonic() + 30
    body = {"model": "sim-llama", "prompt": "first", "max_tokens": 4}
    while client.post(gateway, json=body).status_code != 200:
        assert time.monotonic() < deadline, "no request succeeded within 30 s"
        time.sleep(0.2)


@pytest.mark.parametrize("discovery", ["kubernetes", "selector"])
def test_requests_route_through_processes_started_from_the_chart(
    tmp_path: Path, nats_url: str, redis_url: str, stand_in: Kubectl, discovery: str
) -> None:
    sims = free_ports(2)
    rendered = render(values(tmp_path, nats_url, redis_url, sims, discovery))
    assert bool(of_kind(rendered, "InferencePool")) is (discovery == "kubernetes")
    maps = config_maps(rendered)
    base_env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    files = tmp_path / "files"
    files.mkdir()

    with contextlib.ExitStack() as stack:
        procs: dict[str, subprocess.Popen[bytes]] = {}
        sim_command = [str(BIN / "gie-sim"), "--port", ",".join(map(str, sims)),
                       "--time-scale", "0.02", "--log-level", "WARNING"]  # fmt: skip
        procs["sim"] = stack.enter_context(started(sim_command, base_env, logs / "sim.log"))
        apply_pool(stand_in, rendered, f"{LOCAL}:{sims[0]}")
        envs: dict[str, dict[str, str]] = {}
        for deployment in of_kind(rendered, "Deployment"):
            pod = deployment["spec"]["template"]["spec"]
            container = pod["containers"][0]
            name = container["name"]
            if name == "envoy":
                continue
            env = {**base_env, **process_env(pod, container, files, maps, secrets(rendered))}
            if name == "ingest":  # what its ServiceAccount gives it in a pod
                env["GIE_KUBECONFIG"] = str(stand_in.kubeconfig)
            command = [str(BIN / container["command"][0]), *container.get("args", [])]
            procs[name] = stack.enter_context(started(command, env, logs / f"{name}.log"))
            envs[name] = env
        assert set(envs) == {"picker", "flow-controller", "metrics-collector", "ingest"}
        admins = [int(env["GIE_ADMIN_PORT"]) for env in envs.values()]
        picker_admin = int(envs["picker"]["GIE_ADMIN_PORT"])  # worker i serves it + i
        admins += [picker_admin + i for i in range(1, int(envs["picker"]["GIE_WORKERS"]))]
        for port in admins:
            wait_for(f"http://{LOCAL}:{port}/readyz", procs, logs)

        envoy_config = files / "envoy.yaml"
        envoy_config.write_text(localise(maps["gie-envoy"]["envoy.yaml"]))
        envoy_pod = named(rendered, "Deployment", "gie-envoy")["spec"]["template"]["spec"]
        envoy_command = [
            str(BIN / "envoy"),
            *[str(envoy_config) if arg == "/etc/envoy/envoy.yaml" else arg
              for arg in envoy_pod["containers"][0]["command"][1:]],
            "--base-id", str(free_ports(1)[0]),
        ]  # fmt: skip
        procs["envoy"] = stack.enter_context(started(envoy_command, base_env, logs / "envoy.log"))
        envoy_ports = {p["name"]: p["containerPort"] for p in envoy_pod["containers"][0]["ports"]}
        wait_for(f"http://{LOCAL}:{envoy_ports['admin']}/ready", procs, logs)

        gateway = f"http://{LOCAL}:{envoy_ports['http']}/v1/completions"
        statuses = []
        with httpx.Client(timeout=30) as client:
            first_success(gateway, client)
            for i in range(REQUESTS):
                body = {"model": "sim-llama", "prompt": f"request {i}", "max_tokens": 4}
                statuses.append(client.post(gateway, json=body).status_code)
        assert statuses == [200] * REQUESTS, (logs / "envoy.log").read_text()[-3000:]
