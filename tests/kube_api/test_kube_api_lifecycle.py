"""Object lifecycles: generation, status subresources, graceful deletes, finalizers,
namespace termination, and custom resources coming and going with their CRD."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
import yaml
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from tests.kube_api.manifests import OBJECTIVE_CRD, OBJECTIVE_GROUP, objective, pod


async def _eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.1)


async def _gone(read: Callable[[], Awaitable[object]]) -> bool:
    try:
        await read()
    except ApiException as error:
        return error.status == 404
    return False


async def test_a_bound_pod_is_deleted_gracefully_and_an_unbound_one_at_once(
    api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    await v1.create_namespaced_pod(namespace, pod("bound", node="node-1"))
    await v1.create_namespaced_pod(namespace, pod("unbound"))

    terminating = await v1.delete_namespaced_pod("bound", namespace)
    assert terminating.metadata.deletion_timestamp is not None
    assert terminating.metadata.deletion_grace_period_seconds == 2
    still = await v1.read_namespaced_pod("bound", namespace)
    assert still.metadata.deletion_timestamp is not None

    await v1.delete_namespaced_pod("unbound", namespace)
    assert await _gone(lambda: v1.read_namespaced_pod("unbound", namespace))
    await _eventually(lambda: _gone(lambda: v1.read_namespaced_pod("bound", namespace)))


async def test_a_zero_grace_period_deletes_a_bound_pod_at_once(
    api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    await v1.create_namespaced_pod(namespace, pod("bound", node="node-1"))
    await v1.delete_namespaced_pod("bound", namespace, grace_period_seconds=0)
    assert await _gone(lambda: v1.read_namespaced_pod("bound", namespace))


async def test_finalizers_hold_an_object_until_the_last_one_is_removed(
    api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    body = {"metadata": {"name": "held", "finalizers": ["example.com/keep"]}}
    await v1.create_namespaced_config_map(namespace, body)
    await v1.delete_namespaced_config_map("held", namespace, propagation_policy="Foreground")
    held = await v1.read_namespaced_config_map("held", namespace)
    assert held.metadata.deletion_timestamp is not None
    await v1.patch_namespaced_config_map("held", namespace, {"metadata": {"finalizers": None}})
    assert await _gone(lambda: v1.read_namespaced_config_map("held", namespace))


async def test_a_deleted_namespace_terminates_then_goes_with_its_contents(
    api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    await v1.create_namespaced_config_map(namespace, {"metadata": {"name": "inside"}})
    await v1.delete_namespace(namespace)
    terminating = await v1.read_namespace(namespace)
    assert terminating.status.phase == "Terminating"
    with pytest.raises(ApiException) as caught:
        await v1.create_namespaced_config_map(namespace, {"metadata": {"name": "late"}})
    assert caught.value.status == 403
    await _eventually(lambda: _gone(lambda: v1.read_namespace(namespace)))
    assert await _gone(lambda: v1.read_namespaced_config_map("inside", namespace))


async def test_pod_status_is_written_only_through_the_status_subresource(
    api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    created = await v1.create_namespaced_pod(namespace, pod("p"))
    assert (created.status.phase, created.metadata.generation) == ("Pending", 1)
    ignored = await v1.patch_namespaced_pod("p", namespace, {"status": {"phase": "Running"}})
    assert ignored.status.phase == "Pending"
    ready = {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    written = await v1.patch_namespaced_pod_status("p", namespace, ready)
    assert written.status.phase == "Running"
    assert [c.type for c in written.status.conditions] == ["Ready"]
    assert written.metadata.generation == 1


async def test_a_pod_spec_may_change_only_where_kubernetes_allows(
    api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    await v1.create_namespaced_pod(namespace, pod("p"))
    image = {"spec": {"containers": [{"name": "server", "image": "vllm/vllm-openai:v0.12.0"}]}}
    changed = await v1.patch_namespaced_pod("p", namespace, image)
    assert changed.spec.containers[0].image == "vllm/vllm-openai:v0.12.0"
    assert changed.metadata.generation == 2
    with pytest.raises(ApiException) as caught:
        await v1.patch_namespaced_pod("p", namespace, {"spec": {"restartPolicy": "Never"}})
    assert caught.value.status == 422
    assert "pod updates may not change fields other than" in caught.value.body


async def test_custom_resources_come_and_go_with_their_crd(
    api: client.ApiClient, namespace: str
) -> None:
    crds, custom = client.ApiextensionsV1Api(api), client.CustomObjectsApi(api)
    crd = await crds.create_custom_resource_definition(yaml.safe_load(OBJECTIVE_CRD))
    conditions = {c.type: c.status for c in crd.status.conditions}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert crd.status.stored_versions == ["v1alpha2"]

    args = (OBJECTIVE_GROUP, "v1alpha2", namespace, "inferenceobjectives")
    created = await custom.create_namespaced_custom_object(
        *args, objective("chat", priority=2, pool_name="p")
    )
    assert created["spec"]["poolRef"] == {
        "group": "inference.networking.k8s.io",
        "kind": "InferencePool",
        "name": "p",
    }
    assert created["metadata"]["generation"] == 1

    merge = {"_content_type": "application/merge-patch+json"}
    labelled = await custom.patch_namespaced_custom_object(
        *args, "chat", {"metadata": {"labels": {"a": "b"}}}, **merge
    )
    assert labelled["metadata"]["generation"] == 1
    raised = await custom.patch_namespaced_custom_object(
        *args, "chat", [{"op": "replace", "path": "/spec/priority", "value": 5}]
    )
    assert (raised["spec"]["priority"], raised["metadata"]["generation"]) == (5, 2)
    statused = await custom.patch_namespaced_custom_object_status(
        *args, "chat", {"status": {"seen": True}}, **merge
    )
    assert (statused["status"], statused["metadata"]["generation"]) == ({"seen": True}, 2)

    await crds.delete_custom_resource_definition("inferenceobjectives.llm-d.ai")
    with pytest.raises(ApiException) as caught:
        await custom.list_namespaced_custom_object(*args)
    assert caught.value.status == 404
