"""Helpers for tests that run real picker replicas against NATS."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from gie.bus import NatsEventBus
from gie.events import Endpoint, EndpointMetrics, EndpointMetricsObserved, EndpointUpserted
from gie.events.subjects import endpoint_subject, metrics_subject
from gie_cli.devstack.ports import free_port
from gie_picker.settings import PickerSettings


def replica_settings(nats_url: str, pool: str, name: str, **overrides: object) -> PickerSettings:
    """Settings of one picker replica on free loopback ports."""
    values: dict[str, object] = {
        "nats_url": nats_url,
        "pool": pool,
        "admin_port": free_port(),
        "grpc_port": free_port(),
        "instance_id": name,
        "log_format": "console",
        **overrides,
    }
    return PickerSettings.model_validate(values)


async def publish_endpoints(bus: NatsEventBus, pool: str, addresses: list[str]) -> None:
    for address in addresses:
        await bus.publish(
            endpoint_subject(pool, address),
            EndpointUpserted(source="test", pool=pool, endpoint=Endpoint(address=address)),
        )


async def publish_metrics(
    bus: NatsEventBus, pool: str, address: str, metrics: EndpointMetrics
) -> None:
    await bus.publish(
        metrics_subject(pool, address),
        EndpointMetricsObserved(
            source="test",
            pool=pool,
            address=address,
            scraped_at=datetime.now(UTC),
            metrics=metrics,
        ),
    )


async def debug_view(admin_port: int) -> dict[str, object]:
    async with httpx.AsyncClient(trust_env=False) as client:
        response = await client.get(f"http://127.0.0.1:{admin_port}/debug/view")
        body: dict[str, object] = response.json()
        return body
