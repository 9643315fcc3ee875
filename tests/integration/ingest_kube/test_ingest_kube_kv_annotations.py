"""Pod annotations give the KV-event addresses: through a real ``gie kube serve`` and
ingest the endpoint carries them, and a collector follows a real simulator there."""

from __future__ import annotations

import uuid

import pytest

from gie.bus import NatsEventBus
from gie_ingest.kube.pod_endpoints import RANK_LABEL
from gie_metrics_collector.kv import KV_EVENTS_LABEL, KV_REPLAY_LABEL
from gie_sim import SimConfig, SimServer
from tests.integration.kv_rig import KvRig, complete, wait_until
from tests.support.kube_ingest import POOL_GROUP, pod, pool, set_status

from .conftest import Scene, running

pytestmark = pytest.mark.integration

APP = {"app": "llama"}


async def annotated_pod(scene: Scene, name: str, ip: str, annotations: dict[str, str]) -> None:
    body = pod(name, APP)
    body["metadata"]["annotations"] = annotations
    await scene.core.create_namespaced_pod(scene.namespace, body)
    await set_status(scene.api, scene.namespace, name, ip=ip, ready=True)


async def test_annotations_become_the_endpoint_kv_event_addresses(scene: Scene) -> None:
    async with running(scene.settings):
        await scene.create(POOL_GROUP, "inferencepools", pool(scene.pool, APP))
        await annotated_pod(scene, "port", "10.0.7.1", {"gie.dev/kv-events": "6001"})
        await annotated_pod(
            scene,
            "vllm-style",
            "10.0.7.2",
            {"gie.dev/kv-events": "tcp://*:5557", "gie.dev/kv-events-replay": ""},
        )
        await annotated_pod(
            scene, "elsewhere", "10.0.7.3", {"gie.dev/kv-events": "tcp://10.9.9.9:7000"}
        )
        await annotated_pod(scene, "plain", "10.0.7.4", {})
        await annotated_pod(scene, "typo", "10.0.7.5", {"gie.dev/kv-events": "tcp:/5557"})
        await scene.recorder.wait_addresses([f"10.0.7.{i}:8000" for i in range(1, 6)])
        invalid = 'gie_ingest_invalid_objects_total{kind="Pod"} 1.0'
        assert invalid in await scene.metrics()

    def labels(ip: str) -> dict[str, str]:
        state = scene.recorder.view.get(f"{ip}:8000")
        assert state is not None
        return {k: v for k, v in state.endpoint.labels.items() if k.startswith("gie.dev/kv")}

    assert labels("10.0.7.1") == {KV_EVENTS_LABEL: "tcp://10.0.7.1:6001"}
    assert labels("10.0.7.2") == {KV_EVENTS_LABEL: "tcp://10.0.7.2:5557", KV_REPLAY_LABEL: ""}
    assert labels("10.0.7.3") == {KV_EVENTS_LABEL: "tcp://10.9.9.9:7000"}
    assert labels("10.0.7.4") == {}  # the collector's default: port 5557 on the Pod's IP
    assert labels("10.0.7.5") == {}  # a bad annotation is ignored; the Pod still serves


async def test_data_parallel_ranks_get_port_plus_rank(scene: Scene) -> None:
    async with running(scene.settings):
        await scene.create(POOL_GROUP, "inferencepools", pool(scene.pool, APP, (8000, 8001)))
        await annotated_pod(scene, "dp", "10.0.8.1", {"gie.dev/kv-events": "5557"})
        await scene.recorder.wait_addresses(["10.0.8.1:8000", "10.0.8.1:8001"])
    for rank, port in ((0, 8000), (1, 8001)):
        state = scene.recorder.view.get(f"10.0.8.1:{port}")
        assert state is not None
        assert state.endpoint.labels[RANK_LABEL] == str(rank)
        assert state.endpoint.labels[KV_EVENTS_LABEL] == f"tcp://10.0.8.1:{5557 + rank}"


async def test_a_collector_follows_the_server_its_pod_annotation_names(
    scene: Scene, nats_url: str
) -> None:
    config = SimConfig(time_scale=0.0, kv_events_port=0, kv_events_replay_port=0)
    async with SimServer(config) as sim, NatsEventBus(nats_url, name="it-kv-annotation") as bus:
        http_port = int(sim.address.rsplit(":", 1)[1])
        kv_port = sim.kv_events.address.rsplit(":", 1)[1]
        replay_port = sim.kv_events.replay_address.rsplit(":", 1)[1]
        async with running(scene.settings):
            await scene.create(POOL_GROUP, "inferencepools", pool(scene.pool, APP, (http_port,)))
            await annotated_pod(
                scene,
                "sim",
                "127.0.0.1",
                {"gie.dev/kv-events": kv_port, "gie.dev/kv-events-replay": replay_port},
            )
            await scene.recorder.wait_addresses([sim.address])
        state = scene.recorder.view.get(sim.address)
        assert state is not None
        rig = KvRig(bus, f"it/kv-annotation-{uuid.uuid4().hex[:8]}")
        await rig.start()
        collector = rig.collector("c-0")  # default ports 5557/5558: wrong for this server
        collector.sync({sim.address: state.endpoint})
        try:
            prompt = "an annotated server's prompt " * 20
            await complete(sim.url, prompt)
            await wait_until(lambda: rig.holds(sim.address, prompt), "the prompt in the index")
        finally:
            await collector.close()
