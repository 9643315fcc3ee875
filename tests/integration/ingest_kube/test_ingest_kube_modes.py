"""The deprecated pool group, InferenceObjectives of the old group until the llm-d.ai
kind is installed, and the standalone selector mode (no InferencePool)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
import yaml
from kubernetes_asyncio import client

from gie.events import ObjectiveUpserted
from tests.kube_api.conftest import api_client_for
from tests.kube_api.server_process import ServedApi, kube_serve
from tests.support.kube_ingest import CRDS, LLM_D, apply_crds, objective, ready_pod

from .conftest import Scene, running

pytestmark = pytest.mark.integration

X_K8S = "inference.networking.x-k8s.io"
LLM_D_OBJECTIVES = "inferenceobjectives.llm-d.ai"


@pytest.fixture(scope="module")
def served_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApi]:
    with kube_serve(tmp_path_factory.mktemp("kube-api"), "--no-kubelet") as served:
        yield served


@pytest_asyncio.fixture
async def api(served_api: ServedApi) -> AsyncIterator[client.ApiClient]:
    """Every CRD but llm-d.ai's InferenceObjective (a test installs it)."""
    api_client = await api_client_for(served_api.kubeconfig)
    async with api_client:
        await apply_crds(api_client, skip=(LLM_D_OBJECTIVES,))
        yield api_client


def old_pool(name: str) -> dict[str, object]:
    return {
        "apiVersion": f"{X_K8S}/v1alpha2",
        "kind": "InferencePool",
        "metadata": {"name": name},
        "spec": {
            "selector": {"app": "old"},
            "targetPortNumber": 8100,
            "extensionRef": {"name": f"{name}-epp"},
        },
    }


async def test_old_group_pool_and_objectives_until_llm_d_is_installed(scene: Scene) -> None:
    settings = scene.settings.model_copy(update={"pool_group": X_K8S, "kube_watch_timeout_s": 1})
    view = scene.recorder.view
    async with running(settings):
        await scene.custom.create_namespaced_custom_object(
            X_K8S, "v1alpha2", scene.namespace, "inferencepools", old_pool(scene.pool)
        )
        await ready_pod(scene.api, scene.namespace, "a", {"app": "old"}, "10.4.0.1")
        await scene.recorder.wait_addresses(["10.4.0.1:8100"])

        old = {**objective("chat", scene.pool, 5), "apiVersion": f"{X_K8S}/v1alpha2"}
        await scene.create(X_K8S, "inferenceobjectives", old)
        await scene.recorder.wait_for(lambda: view.objectives() == {"chat": 5}, "old objective")

        # Once llm-d.ai's kind is installed, only it counts (checked at the next watch).
        crd = yaml.safe_load((CRDS / f"{LLM_D_OBJECTIVES}.yaml").read_text())
        await client.ApiextensionsV1Api(scene.api).create_custom_resource_definition(crd)
        await scene.create(LLM_D, "inferenceobjectives", objective("batch", scene.pool, -1))
        await scene.recorder.wait_for(lambda: view.objectives() == {"batch": -1}, "llm-d.ai only")
        relisted = (
            'gie_ingest_kube_relists_total{cause="api-changed",resource="inferenceobjectives"}'
        )
        assert relisted in await scene.metrics()
    assert {e.name for e in scene.recorder.events if isinstance(e, ObjectiveUpserted)} == {
        "chat",
        "batch",
    }


async def test_selector_mode_watches_pods_without_a_pool(scene: Scene) -> None:
    settings = scene.settings.model_copy(
        update={"discovery": "selector", "endpoint_selector": "app=vllm,tier in (a,b)",
                "target_ports": "9000,9001"}
    )  # fmt: skip
    async with running(settings):
        await ready_pod(scene.api, scene.namespace, "in", {"app": "vllm", "tier": "a"}, "10.5.0.1")
        await ready_pod(scene.api, scene.namespace, "out", {"app": "vllm", "tier": "c"}, "10.5.0.2")
        await scene.recorder.wait_addresses(["10.5.0.1:9000", "10.5.0.1:9001"])
        assert (await scene.readyz())["ready"] is True
        assert "gie_ingest_pool_present 1.0" in await scene.metrics()
        await scene.core.delete_namespaced_pod("in", scene.namespace)
        await scene.recorder.wait_addresses([])
