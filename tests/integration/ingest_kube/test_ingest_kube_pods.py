"""Ingest in Kubernetes mode against a real ``gie kube serve`` and real NATS: what the
InferencePool and its Pods say becomes EndpointUpserted / EndpointRemoved events."""

from __future__ import annotations

import pytest
from kubernetes_asyncio import client

from gie.events import EndpointRemoved, EndpointUpserted
from gie_ingest.kube.pod_endpoints import RANK_LABEL
from tests.support.kube_ingest import POOL_GROUP, pool, ready_pod, set_status

from .conftest import Scene, running

pytestmark = pytest.mark.integration

APP = {"app": "llama"}
MERGE = "application/merge-patch+json"


async def test_pool_created_before_its_pods_publishes_each_ready_pod(scene: Scene) -> None:
    async with running(scene.settings):
        await scene.create(POOL_GROUP, "inferencepools", pool(scene.pool, APP))
        await ready_pod(scene.api, scene.namespace, "a", APP, "10.0.0.1")
        await ready_pod(scene.api, scene.namespace, "b", {**APP, "zone": "z1"}, "10.0.0.2")
        await ready_pod(scene.api, scene.namespace, "other", {"app": "other"}, "10.0.0.9")
        await scene.recorder.wait_addresses(["10.0.0.1:8000", "10.0.0.2:8000"])
    b = scene.recorder.view.get("10.0.0.2:8000")
    assert b is not None
    assert (b.endpoint.name, b.endpoint.labels) == ("b", {"app": "llama", "zone": "z1"})


async def test_pool_created_after_its_pods_publishes_them_and_readiness_follows_the_pool(
    scene: Scene,
) -> None:
    await ready_pod(scene.api, scene.namespace, "a", APP, "10.0.1.1")
    async with running(scene.settings):
        body = await scene.readyz()
        assert body["ready"] is False
        assert f"InferencePool {scene.namespace}/{scene.pool} not found" in body["failing"]["pool"]
        assert "gie_ingest_pool_present 0.0" in await scene.metrics()
        assert scene.recorder.addresses() == []

        await scene.create(POOL_GROUP, "inferencepools", pool(scene.pool, APP))
        await scene.recorder.wait_addresses(["10.0.1.1:8000"])
        assert (await scene.readyz())["ready"] is True
        assert "gie_ingest_pool_present 1.0" in await scene.metrics()

        await scene.custom.delete_namespaced_custom_object(
            POOL_GROUP, "v1", scene.namespace, "inferencepools", scene.pool
        )
        await scene.recorder.wait_addresses([])
        assert "not found" in (await scene.readyz())["failing"]["pool"]


async def test_pods_leave_when_not_ready_or_terminating_and_return_when_ready(
    scene: Scene,
) -> None:
    ns = scene.namespace
    async with running(scene.settings):
        await scene.create(POOL_GROUP, "inferencepools", pool(scene.pool, APP))
        await ready_pod(scene.api, ns, "a", APP, "10.0.2.1")
        await ready_pod(scene.api, ns, "held", APP, "10.0.2.2", finalizer=True)
        await scene.recorder.wait_addresses(["10.0.2.1:8000", "10.0.2.2:8000"])

        await set_status(scene.api, ns, "a", ip="10.0.2.1", ready=False)
        await scene.recorder.wait_addresses(["10.0.2.2:8000"])
        await set_status(scene.api, ns, "a", ip="10.0.2.1", ready=True)
        await scene.recorder.wait_addresses(["10.0.2.1:8000", "10.0.2.2:8000"])

        # A finalizer keeps the Pod (Ready, with its IP) but marks it terminating.
        await scene.core.delete_namespaced_pod("held", ns)
        held = await scene.core.read_namespaced_pod("held", ns)
        assert held.metadata.deletion_timestamp is not None
        await scene.recorder.wait_addresses(["10.0.2.1:8000"])

        await scene.core.delete_namespaced_pod("a", ns)
        await scene.recorder.wait_addresses([])
        await scene.core.patch_namespaced_pod(
            "held", ns, {"metadata": {"finalizers": None}}, _content_type=MERGE
        )
    removed = [e.address for e in scene.recorder.events if isinstance(e, EndpointRemoved)]
    upserted = [
        e.endpoint.address for e in scene.recorder.events if isinstance(e, EndpointUpserted)
    ]
    assert removed == ["10.0.2.1:8000", "10.0.2.2:8000", "10.0.2.1:8000"]
    assert upserted == ["10.0.2.1:8000", "10.0.2.2:8000", "10.0.2.1:8000"]


async def test_a_changed_selector_re_derives_the_endpoints(scene: Scene) -> None:
    ns = scene.namespace
    async with running(scene.settings):
        await scene.create(POOL_GROUP, "inferencepools", pool(scene.pool, APP))
        await ready_pod(scene.api, ns, "old", APP, "10.0.3.1")
        await ready_pod(scene.api, ns, "new", {"app": "llama-v2"}, "10.0.3.2")
        await scene.recorder.wait_addresses(["10.0.3.1:8000"])

        patch = {"spec": {"selector": {"matchLabels": {"app": "llama-v2"}}}}
        await scene.custom.patch_namespaced_custom_object(
            POOL_GROUP, "v1", ns, "inferencepools", scene.pool, patch, _content_type=MERGE
        )
        await scene.recorder.wait_addresses(["10.0.3.2:8000"])
        # The Pod watch follows the new selector: later changes of its Pods count.
        await ready_pod(scene.api, ns, "new-2", {"app": "llama-v2"}, "10.0.3.3")
        await scene.recorder.wait_addresses(["10.0.3.2:8000", "10.0.3.3:8000"])


async def test_two_target_ports_give_two_ranked_endpoints_per_pod(scene: Scene) -> None:
    async with running(scene.settings):
        await scene.create(POOL_GROUP, "inferencepools", pool(scene.pool, APP))
        await ready_pod(scene.api, scene.namespace, "dp", APP, "10.0.4.1")
        await scene.recorder.wait_addresses(["10.0.4.1:8000"])
        # A second port: every endpoint is derived again, as ranks.
        patch = {"spec": {"targetPorts": [{"number": 8000}, {"number": 8001}]}}
        await scene.custom.patch_namespaced_custom_object(
            POOL_GROUP, "v1", scene.namespace, "inferencepools", scene.pool, patch,
            _content_type=MERGE,
        )  # fmt: skip
        await scene.recorder.wait_addresses(["10.0.4.1:8000", "10.0.4.1:8001"])
        await scene.recorder.wait_for(
            lambda: all(RANK_LABEL in s.endpoint.labels for s in scene.recorder.view.endpoints()),
            "rank labels",
        )
    ranks = {
        state.endpoint.name: state.endpoint.labels[RANK_LABEL]
        for state in scene.recorder.view.endpoints()
    }
    assert ranks == {"dp-rank-0": "0", "dp-rank-1": "1"}


async def test_pod_without_ip_or_pending_is_not_an_endpoint(scene: Scene) -> None:
    async with running(scene.settings):
        await scene.create(POOL_GROUP, "inferencepools", pool(scene.pool, APP))
        await scene.core.create_namespaced_pod(
            scene.namespace,
            client.V1Pod(
                metadata=client.V1ObjectMeta(name="pending", labels=APP),
                spec=client.V1PodSpec(containers=[client.V1Container(name="s", image="x")]),
            ),
        )
        await ready_pod(scene.api, scene.namespace, "up", APP, "10.0.5.1")
        await scene.recorder.wait_addresses(["10.0.5.1:8000"])
    assert all(
        isinstance(e, EndpointUpserted) and e.endpoint.name == "up" for e in scene.recorder.events
    )
