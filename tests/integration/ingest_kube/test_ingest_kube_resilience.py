"""Ingest keeps the published endpoints right through a 410 Gone, an API server restart
(``gie kube serve --state``) and the loss of one of two replicas (SIGKILL)."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes_asyncio import client

from gie.bus import NatsEventBus
from gie.events import EndpointRemoved, EndpointUpserted, Event
from gie_cli.devstack.ports import free_port
from gie_ingest.settings import IngestSettings
from tests.kube_api.conftest import api_client_for
from tests.kube_api.server_process import ServedApi, kube_serve
from tests.support.kube_ingest import (
    POOL_GROUP,
    Recorder,
    apply_crds,
    ingest_process,
    pool,
    ready_pod,
    set_status,
)

from .conftest import Scene, running

pytestmark = pytest.mark.integration

APP = {"app": "llama"}
HISTORY = 5


@pytest.fixture(scope="module")
def served_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApi]:
    """A short history and no bookmarks (60 s apart), so a resumed watch expires."""
    folder = tmp_path_factory.mktemp("kube-api")
    options = ("--no-kubelet", "--history", str(HISTORY), "--bookmark-interval", "60")
    with kube_serve(folder, *options) as served:
        yield served


def _membership(events: list[Event]) -> list[tuple[str, str]]:
    facts: list[tuple[str, str]] = []
    for event in events:
        if isinstance(event, EndpointUpserted):
            facts.append(("up", event.endpoint.address))
        elif isinstance(event, EndpointRemoved):
            facts.append(("down", event.address))
    return facts


async def test_a_410_mid_watch_relists_without_losing_or_repeating_changes(
    scene: Scene,
) -> None:
    ns = scene.namespace
    settings = scene.settings.model_copy(update={"kube_watch_timeout_s": 1})
    async with running(settings):
        await scene.create(POOL_GROUP, "inferencepools", pool(scene.pool, APP))
        await ready_pod(scene.api, ns, "a", APP, "10.1.0.1")
        await ready_pod(scene.api, ns, "b", APP, "10.1.0.2")
        await scene.recorder.wait_addresses(["10.1.0.1:8000", "10.1.0.2:8000"])
        # More changes elsewhere than the server keeps: the Pod watch's version expires
        # before the watch is resumed (every second).
        for index in range(3 * HISTORY):
            body = {"metadata": {"name": f"noise-{index}"}, "data": {"n": str(index)}}
            await scene.core.create_namespaced_config_map(ns, body)
        expired = 'gie_ingest_kube_relists_total{cause="expired",resource="pods"}'
        for _ in range(100):
            if expired in await scene.metrics():
                break
            await asyncio.sleep(0.05)
        assert expired in await scene.metrics()
        # The relist found what was published: nothing new. Later changes still count.
        await scene.core.delete_namespaced_pod("a", ns)
        await ready_pod(scene.api, ns, "c", APP, "10.1.0.3")
        await scene.recorder.wait_addresses(["10.1.0.2:8000", "10.1.0.3:8000"])
        await set_status(scene.api, ns, "b", ip="10.1.0.2", ready=False)
        await scene.recorder.wait_addresses(["10.1.0.3:8000"])
    assert _membership(scene.recorder.events) == [
        ("up", "10.1.0.1:8000"),
        ("up", "10.1.0.2:8000"),
        ("down", "10.1.0.1:8000"),
        ("up", "10.1.0.3:8000"),
        ("down", "10.1.0.2:8000"),
    ]


async def test_an_api_server_restart_is_survived(tmp_path: Path, nats_url: str) -> None:
    state, port = tmp_path / "state.json", free_port()
    namespace = f"t-{uuid.uuid4().hex[:8]}"
    first = kube_serve(tmp_path, "--no-kubelet", "--state", str(state), port=port)
    served = first.__enter__()
    try:
        api = await api_client_for(served.kubeconfig)
        async with api:
            await apply_crds(api)
            await client.CoreV1Api(api).create_namespace({"metadata": {"name": namespace}})
            await client.CustomObjectsApi(api).create_namespaced_custom_object(
                POOL_GROUP, "v1", namespace, "inferencepools", pool("llama", APP)
            )
            await ready_pod(api, namespace, "a", APP, "10.2.0.1")
        settings = IngestSettings(
            discovery="kubernetes",
            kubeconfig=served.kubeconfig,
            nats_url=nats_url,
            pool=f"{namespace}/llama",
            admin_port=free_port(),
            log_format="console",
            kube_backoff_max_s=0.5,
        )
        recorder = Recorder(settings.pool)
        async with NatsEventBus(nats_url, name="observer") as bus, running(settings):
            await recorder.start(bus)
            await recorder.wait_addresses(["10.2.0.1:8000"])
            first.__exit__(None, None, None)  # SIGTERM; the state file keeps the objects
            await asyncio.sleep(1.0)  # ingest's watches fail and back off meanwhile
            with kube_serve(tmp_path, "--no-kubelet", "--state", str(state), port=port) as again:
                api = await api_client_for(again.kubeconfig)
                async with api:
                    await client.CoreV1Api(api).delete_namespaced_pod("a", namespace)
                    await ready_pod(api, namespace, "b", APP, "10.2.0.2")
                    await recorder.wait_addresses(["10.2.0.2:8000"])
    finally:
        first.__exit__(None, None, None)
    assert _membership(recorder.events) == [
        ("up", "10.2.0.1:8000"),
        ("down", "10.2.0.1:8000"),
        ("up", "10.2.0.2:8000"),
    ]


async def test_two_replicas_store_each_change_once_and_survive_a_sigkill(
    scene: Scene, served_api: ServedApi, nats_url: str, tmp_path: Path
) -> None:
    ns = scene.namespace
    await scene.create(POOL_GROUP, "inferencepools", pool(scene.pool, APP))
    await ready_pod(scene.api, ns, "a", APP, "10.3.0.1")
    await ready_pod(scene.api, ns, "b", APP, "10.3.0.2")
    env = {
        "GIE_DISCOVERY": "kubernetes",
        "GIE_KUBECONFIG": str(served_api.kubeconfig),
        "GIE_NATS_URL": nats_url,
        "GIE_POOL": scene.settings.pool,
        "GIE_LOG_FORMAT": "json",
    }
    with (
        ingest_process("ingest-0", env={**env, "GIE_ADMIN_PORT": str(free_port())}, logs=tmp_path)
        as first,
        ingest_process("ingest-1", env={**env, "GIE_ADMIN_PORT": str(free_port())}, logs=tmp_path)
        as second,
    ):  # fmt: skip
        await scene.recorder.wait_addresses(["10.3.0.1:8000", "10.3.0.2:8000"], timeout_s=30)
        # The second replica is frozen while the first publishes a change; thawed, it
        # sees the change in the API and on the stream at once, and may reconcile
        # before folding the stream: it publishes the same transition, stored once.
        os.kill(second.pid, signal.SIGSTOP)
        try:
            await set_status(scene.api, ns, "b", ip="10.3.0.2", ready=False)
            await scene.recorder.wait_addresses(["10.3.0.1:8000"])
        finally:
            os.kill(second.pid, signal.SIGCONT)
        await asyncio.sleep(1.0)  # both have folded the removal back from the stream

        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        await scene.core.delete_namespaced_pod("a", ns)
        await ready_pod(scene.api, ns, "c", APP, "10.3.0.3")
        await set_status(scene.api, ns, "b", ip="10.3.0.2", ready=True)
        await scene.recorder.wait_addresses(["10.3.0.2:8000", "10.3.0.3:8000"])
        await asyncio.sleep(1.0)  # a late duplicate would arrive by now
    facts = _membership(scene.recorder.events)
    assert Counter(facts) == {
        ("up", "10.3.0.1:8000"): 1,
        ("up", "10.3.0.2:8000"): 2,
        ("down", "10.3.0.2:8000"): 1,
        ("down", "10.3.0.1:8000"): 1,
        ("up", "10.3.0.3:8000"): 1,
    }, facts
