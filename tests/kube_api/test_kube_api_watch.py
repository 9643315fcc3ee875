"""Watches through kubernetes-asyncio: list then watch, resume, 410 and relist, bookmarks."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client.exceptions import ApiException

from tests.kube_api.conftest import HISTORY
from tests.kube_api.manifests import pod
from tests.kube_api.server_process import ServedApi


async def _events(stream: Any, count: int) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    async for event in stream:
        if event["type"] != "BOOKMARK":
            seen.append((event["type"], event["raw_object"]["metadata"]["name"]))
        if len(seen) == count:
            break
    return seen


async def test_list_then_watch_from_the_list_version_sees_each_later_change_once(
    api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    await v1.create_namespaced_pod(namespace, pod("a"))
    listed = await v1.list_namespaced_pod(namespace)
    assert [p.metadata.name for p in listed.items] == ["a"]

    await v1.create_namespaced_pod(namespace, pod("b"))
    await v1.patch_namespaced_pod("a", namespace, {"metadata": {"labels": {"tier": "gold"}}})
    await v1.delete_namespaced_pod("b", namespace)
    async with watch.Watch() as w:
        stream = w.stream(
            v1.list_namespaced_pod,
            namespace,
            resource_version=listed.metadata.resource_version,
            timeout_seconds=5,
        )
        events = await _events(stream, 3)
    assert events == [("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b")]


async def test_a_watch_sees_changes_as_they_happen_with_increasing_versions(
    api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    versions: list[int] = []

    async def watch_two() -> list[tuple[str, str]]:
        async with watch.Watch() as w:
            seen = []
            async for event in w.stream(v1.list_namespaced_pod, namespace, timeout_seconds=5):
                seen.append((event["type"], event["object"].metadata.name))
                versions.append(int(event["object"].metadata.resource_version))
                if len(seen) == 2:
                    break
            return seen

    watching = asyncio.create_task(watch_two())
    await asyncio.sleep(0.3)
    await v1.create_namespaced_pod(namespace, pod("live"))
    await v1.delete_namespaced_pod("live", namespace)
    assert await asyncio.wait_for(watching, 10) == [("ADDED", "live"), ("DELETED", "live")]
    assert versions[0] < versions[1]


async def test_a_watch_without_a_version_starts_with_the_existing_objects(
    api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    for name in ("x", "y"):
        await v1.create_namespaced_pod(namespace, pod(name))
    async with watch.Watch() as w:
        events = await _events(w.stream(v1.list_namespaced_pod, namespace, timeout_seconds=5), 2)
    assert sorted(events) == [("ADDED", "x"), ("ADDED", "y")]


async def test_a_watch_resumes_after_a_dropped_connection_without_losing_changes(
    api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    listed = await v1.list_namespaced_pod(namespace)
    await v1.create_namespaced_pod(namespace, pod("first"))
    async with watch.Watch() as w:
        stream = w.stream(
            v1.list_namespaced_pod,
            namespace,
            resource_version=listed.metadata.resource_version,
            timeout_seconds=5,
        )
        assert await _events(stream, 1) == [("ADDED", "first")]
        last_seen = w.resource_version
    # the connection is gone; the world moves on
    await v1.create_namespaced_pod(namespace, pod("second"))
    await v1.delete_namespaced_pod("first", namespace)
    async with watch.Watch() as w:
        stream = w.stream(
            v1.list_namespaced_pod, namespace, resource_version=last_seen, timeout_seconds=5
        )
        assert await _events(stream, 2) == [("ADDED", "second"), ("DELETED", "first")]


async def test_an_expired_version_gets_410_gone_and_a_relist_recovers(
    api: client.ApiClient, namespace: str, served_api: ServedApi
) -> None:
    v1 = client.CoreV1Api(api)
    old = (await v1.list_namespaced_config_map(namespace)).metadata.resource_version
    for index in range(HISTORY + 5):
        body = {"metadata": {"name": f"cm-{index}"}, "data": {"n": str(index)}}
        await v1.create_namespaced_config_map(namespace, body)

    with pytest.raises(ApiException) as caught:
        async with watch.Watch() as w:
            stream = w.stream(
                v1.list_namespaced_config_map, namespace, resource_version=old, timeout_seconds=5
            )
            await _events(stream, 1)
    assert caught.value.status == 410
    assert "too old resource version" in str(caught.value.reason)

    relisted = await v1.list_namespaced_config_map(namespace)
    assert len(relisted.items) == HISTORY + 5
    await v1.delete_namespaced_config_map("cm-0", namespace)
    async with watch.Watch() as w:
        stream = w.stream(
            v1.list_namespaced_config_map,
            namespace,
            resource_version=relisted.metadata.resource_version,
            timeout_seconds=5,
        )
        assert await _events(stream, 1) == [("DELETED", "cm-0")]


async def test_the_expired_watch_is_an_error_event_carrying_a_410_status(
    served_api: ServedApi, api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    for index in range(HISTORY + 1):
        await v1.create_namespaced_config_map(namespace, {"metadata": {"name": f"e-{index}"}})
    url = f"{served_api.url}/api/v1/namespaces/{namespace}/configmaps"
    async with (
        httpx.AsyncClient() as http,
        http.stream("GET", url, params={"watch": "true", "resourceVersion": "1"}) as response,
    ):
        assert response.status_code == 200
        lines = [line async for line in response.aiter_lines() if line]
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert event["type"] == "ERROR"
    assert event["object"]["kind"] == "Status"
    assert (event["object"]["code"], event["object"]["reason"]) == (410, "Expired")


async def test_bookmarks_carry_a_version_to_resume_from(
    api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    await v1.create_namespaced_pod(namespace, pod("steady"))
    listed = await v1.list_namespaced_pod(namespace)
    bookmark: str | None = None
    async with watch.Watch() as w:
        async for event in w.stream(
            v1.list_namespaced_pod,
            namespace,
            resource_version=listed.metadata.resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=5,
        ):
            if event["type"] == "BOOKMARK":
                bookmark = event["raw_object"]["metadata"]["resourceVersion"]
                assert event["raw_object"]["kind"] == "Pod"
                break
    assert bookmark is not None
    assert int(bookmark) >= int(listed.metadata.resource_version)
    await v1.delete_namespaced_pod("steady", namespace)
    async with watch.Watch() as w:
        stream = w.stream(
            v1.list_namespaced_pod, namespace, resource_version=bookmark, timeout_seconds=5
        )
        assert await _events(stream, 1) == [("DELETED", "steady")]


async def test_a_watch_ends_when_its_timeout_seconds_are_up(
    api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    started = time.monotonic()
    async with watch.Watch() as w:
        events = [e async for e in w.stream(v1.list_namespaced_pod, namespace, timeout_seconds=1)]
    assert events == []
    assert 0.9 <= time.monotonic() - started < 5


async def test_a_selected_watch_sees_objects_leave_and_join_the_selection(
    api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    listed = await v1.list_namespaced_pod(namespace, label_selector="app=vllm")
    await v1.create_namespaced_pod(namespace, pod("p", labels={"app": "vllm"}))
    await v1.create_namespaced_pod(namespace, pod("other", labels={"app": "web"}))
    await v1.patch_namespaced_pod("p", namespace, {"metadata": {"labels": {"app": "web"}}})
    await v1.patch_namespaced_pod("p", namespace, {"metadata": {"labels": {"app": "vllm"}}})
    async with watch.Watch() as w:
        stream = w.stream(
            v1.list_namespaced_pod,
            namespace,
            label_selector="app=vllm",
            resource_version=listed.metadata.resource_version,
            timeout_seconds=5,
        )
        assert await _events(stream, 3) == [("ADDED", "p"), ("DELETED", "p"), ("ADDED", "p")]


async def test_watch_list_sends_the_state_then_a_bookmark_marking_its_end(
    served_api: ServedApi, api: client.ApiClient, namespace: str
) -> None:
    v1 = client.CoreV1Api(api)
    for name in ("one", "two"):
        await v1.create_namespaced_pod(namespace, pod(name))
    params = {
        "watch": "true",
        "sendInitialEvents": "true",
        "allowWatchBookmarks": "true",
        "resourceVersionMatch": "NotOlderThan",
        "timeoutSeconds": "1",
    }
    url = f"{served_api.url}/api/v1/namespaces/{namespace}/pods"
    async with httpx.AsyncClient() as http, http.stream("GET", url, params=params) as response:
        events = [json.loads(line) async for line in response.aiter_lines() if line]
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in events[:3]] == [
        ("ADDED", "one"),
        ("ADDED", "two"),
        ("BOOKMARK", None),
    ]
    marker = events[2]["object"]["metadata"]
    assert marker["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert int(marker["resourceVersion"]) >= int(events[1]["object"]["metadata"]["resourceVersion"])


async def test_a_watch_with_timeout_seconds_0_runs_on_the_servers_timeout(
    served_api: ServedApi, namespace: str
) -> None:
    """As the API server: timeoutSeconds=0 (or less) is no client timeout, not "end at
    once" (a client looping on such a watch would hammer the server)."""
    url = f"{served_api.url}/api/v1/namespaces/{namespace}/pods"
    params = {"watch": "true", "timeoutSeconds": "0"}
    async with httpx.AsyncClient() as http, http.stream("GET", url, params=params) as response:
        assert response.status_code == 200
        lines = response.aiter_lines()
        with pytest.raises(TimeoutError):  # still open, nothing to say
            await asyncio.wait_for(anext(lines), 1.0)
