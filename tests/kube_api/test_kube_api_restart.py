"""``gie kube serve --state FILE``: objects and resourceVersions survive a restart."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client.exceptions import ApiException

from gie_cli.devstack.ports import free_port
from tests.kube_api.conftest import api_client_for
from tests.kube_api.manifests import POOL_CRD, POOL_GROUP, pod, pool
from tests.kube_api.server_process import kube_serve, stop


async def _seed(kubeconfig: Path) -> tuple[str, str, int]:
    """A pod, a CRD and a pool; returns the pod's uid and version, and the last version."""
    async with await api_client_for(kubeconfig) as api:
        v1 = client.CoreV1Api(api)
        await v1.create_namespace({"metadata": {"name": "kept"}})
        created = await v1.create_namespaced_pod("kept", pod("model-server"))
        await client.ApiextensionsV1Api(api).create_custom_resource_definition(
            yaml.safe_load(POOL_CRD)
        )
        await client.CustomObjectsApi(api).create_namespaced_custom_object(
            POOL_GROUP, "v1", "kept", "inferencepools", pool("pool")
        )
        listed = await v1.list_namespaced_pod("kept")
        last = int(listed.metadata.resource_version)
        return created.metadata.uid, created.metadata.resource_version, last


async def test_objects_and_versions_survive_a_restart(tmp_path: Path) -> None:
    state, port = tmp_path / "state.json", free_port()
    with kube_serve(tmp_path, "--state", str(state), port=port) as first:
        uid, before_restart, last = await _seed(first.kubeconfig)
        assert stop(first) == 0
    assert state.is_file()

    with kube_serve(tmp_path, "--state", str(state), port=port) as second:
        async with await api_client_for(second.kubeconfig) as api:
            v1 = client.CoreV1Api(api)
            kept = await v1.read_namespaced_pod("model-server", "kept")
            assert kept.metadata.uid == uid
            pools = await client.CustomObjectsApi(api).list_namespaced_custom_object(
                POOL_GROUP, "v1", "kept", "inferencepools"
            )
            assert [p["metadata"]["name"] for p in pools["items"]] == ["pool"]

            added = await v1.create_namespaced_pod("kept", pod("after-restart"))
            assert int(added.metadata.resource_version) > last

            with pytest.raises(ApiException) as caught:
                async with watch.Watch() as w:
                    stream = w.stream(
                        v1.list_namespaced_pod,
                        "kept",
                        resource_version=before_restart,
                        timeout_seconds=3,
                    )
                    async for _ in stream:
                        break
            assert caught.value.status == 410
            relisted = await v1.list_namespaced_pod("kept")
            assert sorted(p.metadata.name for p in relisted.items) == [
                "after-restart",
                "model-server",
            ]


async def test_changes_are_saved_without_waiting_for_a_clean_stop(tmp_path: Path) -> None:
    state, port = tmp_path / "state.json", free_port()
    with kube_serve(tmp_path, "--state", str(state), port=port) as first:
        async with await api_client_for(first.kubeconfig) as api:
            await client.CoreV1Api(api).create_namespaced_config_map(
                "default", {"metadata": {"name": "saved"}, "data": {"k": "v"}}
            )
        await asyncio.sleep(1.0)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)

    with kube_serve(tmp_path, "--state", str(state), port=port) as second:
        async with await api_client_for(second.kubeconfig) as api:
            saved = await client.CoreV1Api(api).read_namespaced_config_map("saved", "default")
            assert saved.data == {"k": "v"}


def test_a_state_file_that_is_not_one_is_refused_at_start(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("not json", encoding="utf-8")
    command = [sys.executable, "-m", "gie_cli", "kube", "serve", "--state", str(state)]
    command += ["--kubeconfig", str(tmp_path / "kubeconfig")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "not a state file" in done.stderr
    assert state.read_text(encoding="utf-8") == "not json"  # left for the operator to look at
