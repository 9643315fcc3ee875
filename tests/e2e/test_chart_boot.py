"""The chart's configuration really runs: processes started from the rendered manifests.

The chart is rendered in standalone mode (with external datastores, two picker workers,
two model servers) with ports chosen free on this machine. Each gie container's command
and environment is taken from the rendered Deployment as it is; only what a cluster
would provide is replaced: the files mounted from ConfigMaps are written to a folder and
their paths pointed there, cluster DNS names and 0.0.0.0 become 127.0.0.1, and the pod
name (downward API) is made up. Envoy runs the rendered bootstrap. Requests through it
must all succeed: a wrong variable name, port or flag in the chart fails here.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gie_cli.devstack.ports import free_port_block, free_ports
from tests.support.chart import NAMESPACE, Obj, named, of_kind, render
from tests.support.chart_processes import (
    config_maps,
    container_env,
    mounted_folders,
    started,
    wait_for,
)

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
REQUESTS = 50
LOCAL = "127.0.0.1"


def cluster_names() -> list[str]:
    return [
        f"gie-{name}.{NAMESPACE}.svc" for name in ("picker-headless", "pool", "flow-controller")
    ]


def localise(text: str) -> str:
    """Cluster addresses and wildcard binds to loopback."""
    for name in cluster_names():
        text = text.replace(name, LOCAL)
    return text.replace("0.0.0.0", LOCAL)


def values(tmp: Path, nats_url: str, redis_url: str, sims: list[int]) -> Path:
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
        "inferencePool": {"targetPorts": [{"number": port} for port in sims]},
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
            "discovery": {"mode": "file"},
            "poolFile": {"endpoints": [f"{LOCAL}:{port}" for port in sims]},
        },
        "standalone": {"enabled": True, "port": envoy_port, "adminPort": envoy_admin},
    }
    path = tmp / "values.yaml"
    path.write_text(yaml.safe_dump(chart_values))
    return path


def process_env(pod: Obj, container: Obj, files: Path, maps: dict[str, Any]) -> dict[str, str]:
    """The container's environment, with ConfigMap mounts made files under ``files``."""
    mounts = mounted_folders(pod, container, files / container["name"], maps)
    return container_env(container, f"{container['name']}-0", mounts, localise)


def test_requests_route_through_processes_started_from_the_chart(
    tmp_path: Path, nats_url: str, redis_url: str
) -> None:
    sims = free_ports(2)
    rendered = render(values(tmp_path, nats_url, redis_url, sims))
    maps = config_maps(rendered)
    base_env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    logs = tmp_path / "logs"
    logs.mkdir()
    files = tmp_path / "files"
    files.mkdir()

    with contextlib.ExitStack() as stack:
        procs: dict[str, subprocess.Popen[bytes]] = {}
        sim_command = [str(BIN / "gie-sim"), "--port", ",".join(map(str, sims)),
                       "--time-scale", "0.02", "--log-level", "WARNING"]  # fmt: skip
        procs["sim"] = stack.enter_context(started(sim_command, base_env, logs / "sim.log"))
        envs: dict[str, dict[str, str]] = {}
        for deployment in of_kind(rendered, "Deployment"):
            pod = deployment["spec"]["template"]["spec"]
            container = pod["containers"][0]
            name = container["name"]
            if name == "envoy":
                continue
            env = {**base_env, **process_env(pod, container, files, maps)}
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
            for i in range(REQUESTS):
                body = {"model": "sim-llama", "prompt": f"request {i}", "max_tokens": 4}
                statuses.append(client.post(gateway, json=body).status_code)
        assert statuses == [200] * REQUESTS, (logs / "envoy.log").read_text()[-3000:]
