"""The pool the picker sees: one ``EndpointUpserted`` and one metrics scrape per upstream.

The picker builds its view from the state stream alone, so no ingest or collector runs:
the harness publishes the facts itself, under a fresh pool key for every picker it
starts (the picker also replays the pool's recent routing events into its in-flight
view, prefix index and routing history, and must not inherit an earlier arm's).
Queue sizes and running counts vary by endpoint (a few tie for shortest, as in a real
pool). Metrics go stale after 200 ms, which only matters for shedding sheddable
objectives; the benchmark sends none, so routing does not depend on freshness and the
scrape is published once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from bench.picker_overhead.nats_server import NatsServer
from gie.events import (
    Endpoint,
    EndpointMetrics,
    EndpointMetricsObserved,
    EndpointUpserted,
    utc_now,
)
from gie.events.subjects import endpoint_subject, metrics_subject

__all__ = ["fresh_pool", "seed_pool"]

SOURCE = "bench-picker-overhead"


def fresh_pool() -> str:
    """A pool key no earlier arm used, so a picker replays no one else's routing history."""
    return f"bench/picker-overhead-{uuid.uuid4().hex[:8]}"


def _metrics(index: int) -> EndpointMetrics:
    return EndpointMetrics(
        waiting_queue_size=index % 7,
        running_requests=index % 5,
        kv_cache_usage=(index % 10) / 20,
    )


async def seed_pool(nats: NatsServer, addresses: Sequence[str], *, pool: str) -> None:
    """Publish the pool's endpoints and one fresh scrape of each to the state stream,
    each as the service that publishes it in a stack (ingest, the collector)."""
    async with (
        nats.bus(SOURCE, service="ingest") as bus,
        nats.bus(SOURCE, service="metrics-collector") as collector,
    ):
        await bus.ensure_streams()
        for index, address in enumerate(addresses):
            endpoint = Endpoint(address=address, name=f"upstream-{index}")
            await bus.publish(
                endpoint_subject(pool, address),
                EndpointUpserted(source=SOURCE, pool=pool, endpoint=endpoint),
            )
            await collector.publish(
                metrics_subject(pool, address),
                EndpointMetricsObserved(
                    source=SOURCE,
                    pool=pool,
                    address=address,
                    scraped_at=utc_now(),
                    metrics=_metrics(index),
                ),
            )
