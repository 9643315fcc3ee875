"""The streams a new picker replays: a pool and its routing events."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import nats

from gie.bus import STATE, NatsEventBus
from gie.events import (
    Endpoint,
    EndpointMetrics,
    EndpointMetricsObserved,
    EndpointUpserted,
    Event,
    RequestCompleted,
    RequestRouted,
    default_codec,
    utc_now,
)
from gie.events.subjects import endpoint_subject, metrics_subject, routing_subject

SOURCE = "bench-picker-catchup"
_IN_FLIGHT = 500  # publishes awaiting their acknowledgement at a time


@dataclass(frozen=True, slots=True)
class Seeded:
    endpoints: int
    routing_events: int
    state_messages: int
    routing_messages: int
    seconds: float


def address(index: int) -> str:
    return f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}:8000"


def _routing_events(pool: str, count: int) -> list[Event]:
    """``count`` events: request i routed, and (but for every fourth) completed after."""
    events: list[Event] = []
    n = 0
    while len(events) < count:
        target = address(n % 997)
        rid = f"req-{n}"
        events.append(
            RequestRouted(
                source=SOURCE,
                pool=pool,
                correlation_id=rid,
                request_id=rid,
                model="m",
                target=target,
                picker="bench",
                session=f"s{n % 5000}",
            )
        )
        if n % 4 and len(events) < count:
            events.append(
                RequestCompleted(
                    source=SOURCE,
                    pool=pool,
                    correlation_id=rid,
                    request_id=rid,
                    target=target,
                    picker="bench",
                    status=200,
                )
            )
        n += 1
    return events


async def seed(nats_url: str, pool: str, *, endpoints: int, routing: int, batch: int) -> Seeded:
    """Store the pool and the routing events (``batch`` to a message); return once
    the streams hold all of it."""
    started = time.monotonic()
    codec = default_codec()
    async with NatsEventBus(nats_url, name=SOURCE) as bus:
        await bus.ensure_streams()
    nc = await nats.connect(nats_url, name=SOURCE)
    try:
        js = nc.jetstream(timeout=30)
        state: list[tuple[str, bytes]] = []
        for index in range(endpoints):
            addr = address(index)
            upserted = EndpointUpserted(source=SOURCE, pool=pool, endpoint=Endpoint(address=addr))
            metrics = EndpointMetricsObserved(
                source=SOURCE,
                pool=pool,
                address=addr,
                scraped_at=utc_now(),
                metrics=EndpointMetrics(
                    waiting_queue_size=index % 7, running_requests=index % 5, kv_cache_usage=0.1
                ),
            )
            state.append((endpoint_subject(pool, addr), codec.encode(upserted)))
            state.append((metrics_subject(pool, addr), codec.encode(metrics)))
        events = _routing_events(pool, routing)
        subject = routing_subject(pool, "routed")
        routed = [
            (
                subject,
                codec.encode_batch(events[i : i + batch]) if batch > 1 else codec.encode(events[i]),
            )
            for i in range(0, len(events), batch)
        ]
        for messages in (state, routed):
            for start in range(0, len(messages), _IN_FLIGHT):
                chunk = messages[start : start + _IN_FLIGHT]
                await asyncio.gather(*(js.publish(subj, payload) for subj, payload in chunk))
        held = (await js.stream_info(STATE.name)).state.messages
        if held < len(state):
            raise RuntimeError(f"{STATE.name} holds {held} of {len(state)} messages")
    finally:
        await nc.close()
    return Seeded(endpoints, len(events), len(state), len(routed), time.monotonic() - started)
