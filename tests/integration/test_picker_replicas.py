"""Two picker replicas fed by the same stream hold the same view."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from gie.bus import NatsEventBus
from gie.events import (
    EndpointMetrics,
    EndpointRemoved,
    ObjectiveUpserted,
    RequestCompleted,
    RequestRouted,
)
from gie.events.subjects import (
    endpoint_subject,
    objective_subject,
    routing_subject,
)
from gie_picker.app import run
from tests.support.pickers import debug_view, publish_endpoints, publish_metrics, replica_settings
from tests.support.running import service, wait_ready

pytestmark = pytest.mark.integration


async def test_two_replicas_report_the_same_view_digest(nats_url: str) -> None:
    pool = f"replicas/{uuid.uuid4().hex[:8]}"
    addresses = [f"10.1.0.{i}:8000" for i in range(1, 6)]
    replicas = [replica_settings(nats_url, pool, f"picker-{i}") for i in range(2)]
    async with NatsEventBus(nats_url, name="feeder") as bus:
        await bus.ensure_streams()
        # Half the history exists before the first replica starts ...
        await publish_endpoints(bus, pool, addresses)
        async with service(lambda stop: run(replicas[0], stop)):
            await wait_ready(replicas[0].admin_port)
            # ... the rest arrives while it runs, before the second one starts.
            for n, address in enumerate(addresses):
                await publish_metrics(
                    bus,
                    pool,
                    address,
                    EndpointMetrics(
                        waiting_queue_size=n, running_requests=1, kv_cache_usage=0.1 * n
                    ),
                )
            await bus.publish(
                endpoint_subject(pool, addresses[0]),
                EndpointRemoved(source="t", pool=pool, address=addresses[0]),
            )
            await bus.publish(
                objective_subject(pool, "batch"),
                ObjectiveUpserted(source="t", pool=pool, name="batch", priority=-1),
            )
            # Requests routed by some replica: two still running, one finished.
            for n in range(3):
                await bus.publish(
                    routing_subject(pool, "routed"),
                    RequestRouted(
                        source="p",
                        pool=pool,
                        request_id=f"r{n}",
                        model="m",
                        target=addresses[1 + n % 2],
                        picker="p",
                    ),
                )
            await bus.publish(
                routing_subject(pool, "completed"),
                RequestCompleted(
                    source="p",
                    pool=pool,
                    request_id="r0",
                    target=addresses[1],
                    picker="p",
                    status=200,
                ),
            )
            async with service(lambda stop: run(replicas[1], stop)):
                await wait_ready(replicas[1].admin_port)
                views: list[dict[str, object]] = []
                for _ in range(100):
                    views = [await debug_view(r.admin_port) for r in replicas]
                    if (
                        views[0]["digest"] == views[1]["digest"]
                        and views[0]["in_flight"] == views[1]["in_flight"]
                        and len(views[0]["endpoints"]) == 4  # type: ignore[arg-type]
                        and views[0]["in_flight"]["requests"] == 2  # type: ignore[index]
                    ):
                        break
                    await asyncio.sleep(0.05)
    assert views[0]["digest"] == views[1]["digest"]
    # Equal views at the same place on the state stream, which both name.
    positions = [view["positions"] for view in views]
    assert positions[0]["pool state"] == positions[1]["pool state"] > 0  # type: ignore[index]
    assert [e["address"] for e in views[1]["endpoints"]] == addresses[1:]  # type: ignore[union-attr]
    assert views[1]["objectives"] == {"batch": -1}
    # Both count the same requests in flight, whichever replica routed them.
    assert views[0]["in_flight"] == views[1]["in_flight"]
    assert views[1]["in_flight"]["per_endpoint"] == {addresses[2]: 1, addresses[1]: 1}  # type: ignore[index]
