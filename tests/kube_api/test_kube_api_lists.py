"""Lists: label and field selectors, limit/continue paging over one consistent state."""

from __future__ import annotations

import uuid

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from tests.kube_api.manifests import pod

_LABELLED = {
    "a": {"app": "vllm", "tier": "gold"},
    "b": {"app": "vllm", "tier": "silver"},
    "c": {"app": "sglang"},
}


@pytest.mark.parametrize(
    ("selector", "names"),
    [
        ("app=vllm", ["a", "b"]),
        ("app==vllm", ["a", "b"]),
        ("app!=vllm", ["c"]),
        ("tier in (gold,bronze)", ["a"]),
        ("tier notin (gold)", ["b", "c"]),
        ("tier", ["a", "b"]),
        ("!tier", ["c"]),
        ("app=vllm,tier!=gold", ["b"]),
    ],
    ids=["equals", "double-equals", "not-equals", "in", "notin", "exists", "not-exists", "and"],
)
async def test_label_selectors_select_as_kubernetes_does(
    api: client.ApiClient, namespace: str, selector: str, names: list[str]
) -> None:
    v1 = client.CoreV1Api(api)
    for name, labels in _LABELLED.items():
        await v1.create_namespaced_pod(namespace, pod(name, labels=labels))
    listed = await v1.list_namespaced_pod(namespace, label_selector=selector)
    assert [p.metadata.name for p in listed.items] == names


async def test_field_selectors_select_by_name_namespace_phase_and_node(
    api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    await v1.create_namespaced_pod(namespace, pod("bound", node="node-1"))
    await v1.create_namespaced_pod(namespace, pod("unbound"))
    await v1.patch_namespaced_pod_status("bound", namespace, {"status": {"phase": "Running"}})

    async def names(selector: str) -> list[str]:
        listed = await v1.list_pod_for_all_namespaces(field_selector=selector)
        return sorted(p.metadata.name for p in listed.items if p.metadata.namespace == namespace)

    assert await names("spec.nodeName=node-1") == ["bound"]
    assert await names("spec.nodeName=") == ["unbound"]
    assert await names("status.phase=Running") == ["bound"]
    assert await names("status.phase!=Running") == ["unbound"]
    assert await names(f"metadata.namespace={namespace},metadata.name=unbound") == ["unbound"]
    with pytest.raises(ApiException) as caught:
        await names("spec.image=x")
    assert caught.value.status == 400


async def test_pages_show_the_state_of_the_first_page(
    api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    for index in range(5):
        await v1.create_namespaced_config_map(namespace, {"metadata": {"name": f"cm-{index}"}})
    first = await v1.list_namespaced_config_map(namespace, limit=2)
    assert [c.metadata.name for c in first.items] == ["cm-0", "cm-1"]
    assert first.metadata.remaining_item_count == 3
    assert first.metadata._continue

    await v1.delete_namespaced_config_map("cm-3", namespace)
    await v1.create_namespaced_config_map(namespace, {"metadata": {"name": "cm-9"}})
    names: list[str] = []
    token = first.metadata._continue
    while token:
        page = await v1.list_namespaced_config_map(namespace, limit=2, _continue=token)
        assert page.metadata.resource_version == first.metadata.resource_version
        names += [c.metadata.name for c in page.items]
        token = page.metadata._continue
    assert names == ["cm-2", "cm-3", "cm-4"]

    now = await v1.list_namespaced_config_map(namespace)
    assert [c.metadata.name for c in now.items] == ["cm-0", "cm-1", "cm-2", "cm-4", "cm-9"]
    assert int(now.metadata.resource_version) > int(first.metadata.resource_version)


async def test_a_list_at_an_exact_version_shows_the_state_then(
    api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    await v1.create_namespaced_config_map(namespace, {"metadata": {"name": "kept"}})
    then = (await v1.list_namespaced_config_map(namespace)).metadata.resource_version
    await v1.create_namespaced_config_map(namespace, {"metadata": {"name": "later"}})
    await v1.patch_namespaced_config_map("kept", namespace, {"data": {"k": "v"}})
    old = await v1.list_namespaced_config_map(
        namespace, resource_version=then, resource_version_match="Exact"
    )
    assert [(c.metadata.name, c.data) for c in old.items] == [("kept", None)]
    assert old.metadata.resource_version == then


async def test_pages_across_namespaces_miss_no_namespace(api: client.ApiClient) -> None:
    """Namespaces sort as the store keeps them: a page ending in namespace "a" must not
    skip "a-b" (as strings, "a-b/..." sorts before "a/...")."""
    v1 = client.CoreV1Api(api)
    tag = uuid.uuid4().hex[:6]
    names = {f"p{tag}": ["x1", "x2"], f"p{tag}-b": ["y1"]}
    for namespace, maps in names.items():
        await v1.create_namespace({"metadata": {"name": namespace}})
        for name in maps:
            await v1.create_namespaced_config_map(namespace, {"metadata": {"name": name}})
    seen: list[tuple[str, str]] = []
    token = None
    while True:
        page = await v1.list_config_map_for_all_namespaces(limit=1, _continue=token)
        seen += [(c.metadata.namespace, c.metadata.name) for c in page.items]
        token = page.metadata._continue
        if not token:
            break
    mine = [entry for entry in seen if entry[0] in names]
    assert mine == [(f"p{tag}", "x1"), (f"p{tag}", "x2"), (f"p{tag}-b", "y1")]
