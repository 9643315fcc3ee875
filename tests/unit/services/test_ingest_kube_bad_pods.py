"""A Pod whose annotations or fields no rule foresaw is skipped or read without them,
counted and logged: the watch goes on, and the other Pods are published."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from prometheus_client import CollectorRegistry

from gie_ingest.kube.source import KubeSource
from gie_ingest.settings import IngestSettings
from tests.unit.services.test_ingest_kube_watch import ScriptedApi


def pod(name: str, ip: str, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "metadata": {
            "namespace": "ns",
            "name": name,
            "resourceVersion": "1",
            "annotations": annotations or {},
        },
        "status": {"podIP": ip, "conditions": [{"type": "Ready", "status": "True"}]},
    }


async def test_a_pod_with_an_unreadable_kv_annotation_keeps_the_watch_going() -> None:
    settings = IngestSettings(
        pool="ns/p", discovery="selector", endpoint_selector="app=m", target_ports="8000"
    )
    registry = CollectorRegistry()
    source = KubeSource(object(), settings, registry=registry, on_change=lambda: None)
    api = ScriptedApi()
    api.lists = [
        (
            [
                pod("good", "10.0.0.1"),
                pod("odd", "10.0.0.2", {"gie.dev/kv-events": "\u00b2"}),
                pod("long", "10.0.0.3", {"gie.dev/kv-events": "tcp://*:" + "9" * 5000}),
            ],
            "5",
        )
    ]
    source.pods.resource = api
    task = asyncio.create_task(source.run())
    try:
        await asyncio.wait_for(api.done.wait(), 5)  # listed, now watching
        assert not task.done()
        addresses = sorted(endpoint.address for endpoint in source.endpoints())
        assert addresses == ["10.0.0.1:8000", "10.0.0.2:8000", "10.0.0.3:8000"]
        odd = [e for e in source.endpoints() if e.address != "10.0.0.1:8000"]
        assert all("gie.dev/kv-events" not in endpoint.labels for endpoint in odd)
        invalid = registry.get_sample_value("gie_ingest_invalid_objects_total", {"kind": "Pod"})
        assert invalid == 2
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
