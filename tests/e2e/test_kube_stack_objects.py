"""`gie up --discovery kubernetes`, its Kubernetes side: what kubectl sees in the stack.

The stack here runs its API stand-in, simulators, NATS, Redis and Envoy, but not the four
services: these tests judge the Pods, the InferencePool, the spare simulator's manifest
and the kubeconfig, not routing (``test_kube_discovery_routing.py`` does that).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from gie_cli.devstack import PartStartError, RunningStack, start_stack
from tests.e2e.kube_stack import (
    KUBE_SIMS,
    Kubectl,
    gie,
    kube_stack_options,
    manifest_of,
    sim_endpoints,
)

pytestmark = pytest.mark.e2e


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def kube_only(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    options = kube_stack_options(tmp_path_factory.mktemp("kube-stack"), services=())
    try:
        running = await start_stack(options)
    except PartStartError as error:
        pytest.fail(f"local stack did not start: {error}\n{error.log_tail}", pytrace=False)
    try:
        yield running
    finally:
        await running.stop()
    assert not (running.store.root / "kubeconfig").exists(), "gie down left the kubeconfig"


@pytest.fixture
def kubectl_on(kube_only: RunningStack, tmp_path: Path) -> Kubectl:
    assert kube_only.state.kubeconfig is not None
    return Kubectl(kube_only.state.kubeconfig, tmp_path / "home")


def _ready(pod: dict[str, object]) -> bool:
    conditions = pod["status"]["conditions"]  # type: ignore[index]
    return {"type": "Ready", "status": "True"} in [
        {"type": c["type"], "status": c["status"]}
        for c in conditions  # type: ignore[attr-defined]
    ]


def test_each_simulator_runs_in_a_ready_pod_with_its_own_ip_on_the_pools_port(
    kube_only: RunningStack, kubectl_on: Kubectl
) -> None:
    endpoints = sim_endpoints(kube_only.state)
    pods = {
        pod["metadata"]["name"]: pod
        for pod in kubectl_on.json("get", "pods", "-l", "app=sim-llama")["items"]
    }
    wanted = [f"sim-{index}" for index in range(KUBE_SIMS)]
    assert sorted(pods) == wanted  # the spare (sim-3) has no Pod
    ips = [pods[name]["status"]["podIP"] for name in wanted]
    assert ips == ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
    assert all(pods[name]["status"]["phase"] == "Running" for name in wanted)
    assert all(_ready(pods[name]) for name in wanted)
    pool = kubectl_on.json("get", "inferencepool", "sim-pool")
    port = pool["spec"]["targetPorts"][0]["number"]
    assert pool["spec"]["selector"]["matchLabels"] == {"app": "sim-llama"}
    assert [endpoints[name] for name in wanted] == [f"{ip}:{port}" for ip in ips]
    table = kubectl_on.run("get", "pods", "-o", "wide").stdout
    assert "sim-0   1/1     Running" in table


def test_status_names_the_kubeconfig_kubectl_works_with(kube_only: RunningStack) -> None:
    root = str(kube_only.store.root)
    report = json.loads(gie("status", "--json", "--state-dir", root).stdout)
    kubeconfig = report["kubeconfig"]
    assert kubeconfig == str(kube_only.store.root / "kubeconfig")
    assert report["discovery"] == "kubernetes"
    assert report["services"]["kube-api"]["healthy"] is True
    assert report["services"]["sim-0"]["pod"] == "default/sim-0"
    assert report["services"]["sim-3"]["pod"] is None
    printed = gie("status", "--state-dir", root).stdout
    assert f"KUBECONFIG={kubeconfig} kubectl get pods" in printed
    assert f"kubectl apply -f {manifest_of(kube_only.state, 'sim-3')}" in printed


def test_applying_the_spare_simulators_manifest_runs_its_pod(
    kube_only: RunningStack, kubectl_on: Kubectl
) -> None:
    spare = sim_endpoints(kube_only.state)["sim-3"]
    kubectl_on.run("apply", "-f", str(manifest_of(kube_only.state, "sim-3")))
    try:
        kubectl_on.run("wait", "--for=condition=Ready", "pod/sim-3", "--timeout=20s")
        pod = kubectl_on.json("get", "pod", "sim-3")
        assert (
            f"{pod['status']['podIP']}:{pod['spec']['containers'][0]['ports'][0]['containerPort']}"
            == spare
        )
        report = json.loads(
            gie("status", "--json", "--state-dir", str(kube_only.store.root)).stdout
        )
        assert report["services"]["sim-3"]["pod"] == "default/sim-3"
    finally:
        kubectl_on.run("delete", "pod", "sim-3", "--ignore-not-found")
    assert kubectl_on.run("get", "pod", "sim-3", check=False).returncode != 0
