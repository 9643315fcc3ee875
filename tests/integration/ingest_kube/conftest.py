"""Fixtures of ingest's Kubernetes-mode tests: one ``gie kube serve`` per module with
the chart's CRDs (no kubelet: tests write Pod status), a namespace per test, and
ingest's real ``run`` as a task of the test's loop."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from kubernetes_asyncio import client

from gie.bus import NatsEventBus
from gie_cli.devstack.ports import free_port
from gie_ingest.app import run as run_ingest
from gie_ingest.settings import IngestSettings
from tests.kube_api.conftest import api_client_for
from tests.kube_api.server_process import ServedApi, kube_serve
from tests.support.kube_ingest import Recorder, apply_crds
from tests.support.running import service

HISTORY = 40


@pytest.fixture(scope="module")
def served_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApi]:
    folder = tmp_path_factory.mktemp("kube-api")
    options = ("--no-kubelet", "--history", str(HISTORY), "--bookmark-interval", "0.3")
    with kube_serve(folder, *options) as served:
        yield served


@pytest_asyncio.fixture
async def api(served_api: ServedApi) -> AsyncIterator[client.ApiClient]:
    api_client = await api_client_for(served_api.kubeconfig)
    async with api_client:
        await apply_crds(api_client)
        yield api_client


@dataclass
class Scene:
    """One test's namespace, pool name, observer and ingest settings."""

    api: client.ApiClient
    namespace: str
    pool: str
    recorder: Recorder
    settings: IngestSettings

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    async def create(self, group: str, plural: str, body: dict[str, Any]) -> None:
        version = "v1" if plural == "inferencepools" else "v1alpha2"
        await self.custom.create_namespaced_custom_object(
            group, version, self.namespace, plural, body
        )

    async def readyz(self) -> dict[str, Any]:
        """The admin app's readiness (waiting for the app to answer at all)."""
        url = f"http://127.0.0.1:{self.settings.admin_port}/readyz"
        async with httpx.AsyncClient() as http:
            for _ in range(200):
                with contextlib.suppress(httpx.HTTPError):
                    response = await http.get(url)
                    if response.status_code == 200 or "kubernetes" not in response.text:
                        break
                await asyncio.sleep(0.05)
        body: dict[str, Any] = response.json()
        return body

    async def metrics(self) -> str:
        async with httpx.AsyncClient() as http:
            response = await http.get(f"http://127.0.0.1:{self.settings.admin_port}/metrics")
        return response.text


@pytest_asyncio.fixture
async def scene(
    api: client.ApiClient, served_api: ServedApi, nats_url: str
) -> AsyncIterator[Scene]:
    namespace = f"t-{uuid.uuid4().hex[:8]}"
    await client.CoreV1Api(api).create_namespace({"metadata": {"name": namespace}})
    pool_name = "llama"
    settings = IngestSettings(
        discovery="kubernetes",
        kubeconfig=served_api.kubeconfig,
        nats_url=nats_url,
        pool=f"{namespace}/{pool_name}",
        admin_port=free_port(),
        log_format="console",
        kube_backoff_max_s=1.0,
    )
    recorder = Recorder(settings.pool)
    async with NatsEventBus(nats_url, name="observer") as bus:
        await recorder.start(bus)
        yield Scene(api, namespace, pool_name, recorder, settings)


@asynccontextmanager
async def running(settings: IngestSettings) -> AsyncIterator[None]:
    async with service(lambda stop: run_ingest(settings, stop)):
        yield
