"""`gie up --discovery kubernetes`, end to end: kubectl changes the pool, the gateway follows.

The whole stack runs with ingest watching the stack's Kubernetes API (three simulators
with a Pod, one spare without). A Pod deleted with kubectl stops getting requests within
a second; a Pod applied for the spare brings it requests; an InferenceModelRewrite splits
a model's requests between two served names by weight.
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import yaml

from gie_cli.devstack import PartStartError, RunningStack, start_stack
from tests.e2e.kube_stack import (
    KUBE_SIMS,
    Kubectl,
    gie,
    kube_stack_options,
    manifest_of,
    send,
    sim_endpoints,
    success_count,
    until_served_by,
)
from tests.support.k8s_tools import kubectl

pytestmark = pytest.mark.e2e

SETTLE_S = 1.0  # a deleted Pod gets no request from this long after the delete
REWRITE_TARGETS = ("sim-llama-a", "sim-llama-b")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def kube_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    kubectl()  # skip before starting anything when it is missing
    # Every simulator answers to the rewrite's targets too.
    options = kube_stack_options(
        tmp_path_factory.mktemp("kube-routing"), served_model_names=REWRITE_TARGETS
    )
    try:
        running = await start_stack(options)
    except PartStartError as error:
        pytest.fail(f"local stack did not start: {error}\n{error.log_tail}", pytrace=False)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
def kubectl_on(kube_stack: RunningStack, tmp_path: Path) -> Kubectl:
    assert kube_stack.state.kubeconfig is not None
    return Kubectl(kube_stack.state.kubeconfig, tmp_path / "home")


@pytest_asyncio.fixture(loop_scope="session")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30.0, trust_env=False) as http:
        yield http


@pytest.fixture
def pods(kube_stack: RunningStack) -> Iterator[dict[str, str]]:
    """Simulator part -> endpoint, for the three that start with a Pod."""
    endpoints = sim_endpoints(kube_stack.state)
    yield {f"sim-{index}": endpoints[f"sim-{index}"] for index in range(KUBE_SIMS)}


async def test_a_deleted_pod_gets_no_request_from_a_second_after_the_delete(
    kube_stack: RunningStack,
    kubectl_on: Kubectl,
    client: httpx.AsyncClient,
    pods: dict[str, str],
) -> None:
    gateway, victim = kube_stack.gateway, pods["sim-0"]
    await until_served_by(client, gateway, set(pods.values()), timeout_s=30)
    deleted_at = time.monotonic()
    kubectl_on.run("delete", "pod", "sim-0", "--wait=false")
    during = await send(client, gateway, 40, concurrency=4)  # traffic while ingest reacts
    await asyncio.sleep(max(0.0, deleted_at + SETTLE_S - time.monotonic()))
    served_before = await success_count(client, victim)
    after = await send(client, gateway, 300, concurrency=8)
    assert all(s.sent_at >= deleted_at + SETTLE_S for s in after)
    assert [s.status for s in during + after] == [200] * len(during + after)
    by_server = collections.Counter(s.served_by for s in after)
    assert victim not in by_server, f"the deleted Pod's server was sent requests: {by_server}"
    assert set(by_server) == {pods["sim-1"], pods["sim-2"]}
    assert await success_count(client, victim) == served_before
    # Once it is gone (the grace period ends), applying its manifest again brings the
    # Pod, and its requests, back.
    kubectl_on.run("wait", "--for=delete", "pod/sim-0", "--timeout=30s")
    kubectl_on.run("apply", "-f", str(manifest_of(kube_stack.state, "sim-0")))
    await until_served_by(client, gateway, {victim}, timeout_s=30)


async def test_a_pod_applied_for_the_spare_simulator_brings_it_requests(
    kube_stack: RunningStack, kubectl_on: Kubectl, client: httpx.AsyncClient
) -> None:
    gateway, spare = kube_stack.gateway, sim_endpoints(kube_stack.state)["sim-3"]
    await send(client, gateway, 100)
    assert await success_count(client, spare) == 0, "the spare served without a Pod"
    kubectl_on.run("apply", "-f", str(manifest_of(kube_stack.state, "sim-3")))
    try:
        counts = await until_served_by(client, gateway, {spare}, timeout_s=30)
        assert await success_count(client, spare) >= counts[spare] > 0
    finally:
        kubectl_on.run("delete", "pod", "sim-3", "--wait=false")


def _rewrite(pool: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "llm-d.ai/v1alpha2",
            "kind": "InferenceModelRewrite",
            "metadata": {"name": "sim-llama-split"},
            "spec": {
                "poolRef": {"name": pool},
                "rules": [
                    {
                        "matches": [{"model": {"type": "Exact", "value": "sim-llama"}}],
                        "targets": [
                            {"modelRewrite": REWRITE_TARGETS[0], "weight": 80},
                            {"modelRewrite": REWRITE_TARGETS[1], "weight": 20},
                        ],
                    }
                ],
            },
        }
    )


async def test_a_model_rewrite_splits_requests_80_20_between_two_served_names(
    kube_stack: RunningStack, kubectl_on: Kubectl, client: httpx.AsyncClient
) -> None:
    pool = kube_stack.state.pool.rpartition("/")[2]
    kubectl_on.run("apply", "-f", "-", stdin=_rewrite(pool))
    try:
        deadline = time.monotonic() + 30
        while (await send(client, kube_stack.gateway, 8))[0].model == "sim-llama":
            assert time.monotonic() < deadline, "the rewrite never took effect"
        served = await send(client, kube_stack.gateway, 1000, concurrency=16)
        assert [s.status for s in served] == [200] * 1000
        models = collections.Counter(s.model for s in served)
        assert set(models) == set(REWRITE_TARGETS), models
        assert 740 <= models[REWRITE_TARGETS[0]] <= 860, models
    finally:
        kubectl_on.run("delete", "inferencemodelrewrite", "sim-llama-split", "--ignore-not-found")


def test_cli_up_status_down_with_kubernetes_discovery(tmp_path: Path) -> None:
    root = str(tmp_path / "stack")
    up = gie("up", "--detach", "--discovery", "kubernetes", "--sims", "2", "--spare-sims", "0",
             "--time-scale", "0.05", "--served-model-name", "sim-llama-a",
             "--state-dir", root)  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        report = json.loads(gie("status", "--json", "--state-dir", root).stdout)
        kubeconfig = Path(report["kubeconfig"])
        assert f"kubectl: KUBECONFIG={kubeconfig} kubectl get pods" in up.stdout
        pods = Kubectl(kubeconfig, tmp_path / "home").json("get", "pods")["items"]
        assert sorted(pod["metadata"]["name"] for pod in pods) == ["sim-0", "sim-1"]
        with httpx.Client(timeout=30.0, trust_env=False) as http:
            body = {"model": "sim-llama", "prompt": "hello", "max_tokens": 3}
            response = http.post(f"{report['gateway']}/v1/completions", json=body)
            other = http.post(
                f"{report['gateway']}/v1/completions", json={**body, "model": "sim-llama-a"}
            )
        assert response.status_code == 200, response.text
        assert (other.status_code, other.json()["model"]) == (200, "sim-llama-a")
        assert response.headers["x-served-by"] in {
            part["addresses"]["endpoint"]
            for part in report["services"].values()
            if part["kind"] == "sim"
        }
    finally:
        down = gie("down", "--state-dir", root)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "kube-api" in down.stdout
    assert not kubeconfig.exists()
