"""Fixtures: one ``gie kube serve`` process per module, clients bound to it.

``served_api`` keeps a short watch history (60 changes) and sends bookmarks every
0.3 s, so tests can reach an expired resourceVersion and see bookmarks quickly.
Each test works in a namespace of its own (``namespace``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from kubernetes_asyncio import client, config

from tests.kube_api.kubectl import Kubectl, require_kubectl
from tests.kube_api.server_process import ServedApi, kube_serve

HISTORY = 60
BOOKMARK_INTERVAL_S = 0.3


@pytest.fixture(scope="module")
def served_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApi]:
    folder = tmp_path_factory.mktemp("kube-api")
    options = ("--history", str(HISTORY), "--bookmark-interval", str(BOOKMARK_INTERVAL_S))
    with kube_serve(folder, *options) as served:
        yield served


async def api_client_for(kubeconfig: Path) -> client.ApiClient:
    configuration = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    return client.ApiClient(configuration=configuration)


@pytest_asyncio.fixture
async def api(served_api: ServedApi) -> AsyncIterator[client.ApiClient]:
    """A kubernetes-asyncio ApiClient configured from the written kubeconfig."""
    api_client = await api_client_for(served_api.kubeconfig)
    async with api_client:
        yield api_client


@pytest_asyncio.fixture
async def namespace(api: client.ApiClient) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    await client.CoreV1Api(api).create_namespace(body)
    return name


@pytest.fixture
def kubectl(served_api: ServedApi, tmp_path: Path) -> Kubectl:
    return Kubectl(require_kubectl(), served_api.kubeconfig, tmp_path / "kubectl-cache")
