"""A following keeps receiving after nats-server restarts, whatever its start.

nats-py recreates an ordered consumer after a server restart from the next stream
sequence; a following started at a time must not carry that time into the
recreation (the server refuses a consumer with both, and the following would
freeze while the service kept answering from a stale view).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gie.bus import EVENTS, Deliver, NatsEventBus
from gie.events import Event, RequestRouted
from gie.events.subjects import pool_prefix, routing_subject
from gie_cli.devstack.ports import free_port
from tests.support.flow_replicas import eventually
from tests.support.routing_events import routed
from tests.support.servers import nats_server

pytestmark = pytest.mark.integration


async def _publish(url: str, pool: str, numbers: range) -> None:
    async with NatsEventBus(url, name="publisher") as publisher:
        for n in numbers:
            await publisher.publish(routing_subject(pool, "routed"), routed(pool, n))


def _ids(seen: list[Event]) -> list[str]:
    return [e.request_id for e in seen if isinstance(e, RequestRouted)]


@pytest.mark.parametrize("deliver", [Deliver.SINCE, Deliver.FROM_SEQUENCE])
async def test_a_following_receives_new_events_after_nats_restarts(
    tmp_path: Path, deliver: Deliver
) -> None:
    port, store = free_port(), str(tmp_path / "jetstream")
    pool = f"restart/{uuid.uuid4().hex[:8]}"
    seen: list[Event] = []
    with contextlib.ExitStack() as first_server:
        url = first_server.enter_context(nats_server(port=port, store=store))
        async with NatsEventBus(url, name="follower") as bus:
            await bus.ensure_streams()
            await _publish(url, pool, range(1))
            following = await bus.follow(
                EVENTS,
                f"{pool_prefix(pool)}.routing.>",
                seen.append,
                deliver=deliver,
                since=datetime.now(UTC) - timedelta(minutes=5),
                start_seq=1,
            )
            await asyncio.wait_for(following.caught_up.wait(), 10)
            await _publish(url, pool, range(1, 2))

            async def arrived(count: int) -> bool:
                return len(_ids(seen)) == count

            await eventually(lambda: arrived(2), timeout_s=5, what="events before the restart")
            first_server.close()
            await asyncio.sleep(0.5)
            with nats_server(port=port, store=store) as url:  # same port, same stream
                await _publish(url, pool, range(2, 4))
                await eventually(lambda: arrived(4), timeout_s=20, what="events after restart")
                assert _ids(seen) == ["r0", "r1", "r2", "r3"]


async def test_a_following_resumes_as_soon_as_the_bus_reconnects(tmp_path: Path) -> None:
    """Not after nats-py misses the old consumer's heartbeats (seconds later): from the
    reconnection on, events reach the handler, none missed and none twice."""
    port, store = free_port(), str(tmp_path / "jetstream")
    pool = f"resume/{uuid.uuid4().hex[:8]}"
    seen: list[Event] = []
    with contextlib.ExitStack() as first_server:
        url = first_server.enter_context(nats_server(port=port, store=store))
        async with NatsEventBus(url, name="follower") as bus:
            await bus.ensure_streams()
            await _publish(url, pool, range(2))
            following = await bus.follow(
                EVENTS, f"{pool_prefix(pool)}.routing.>", seen.append, deliver=Deliver.ALL
            )
            await asyncio.wait_for(following.caught_up.wait(), 10)
            first_server.close()
            await asyncio.sleep(0.3)
            with nats_server(port=port, store=store) as url:
                for _ in range(200):  # reconnect_time_wait is 0.5 s
                    if bus.connected:
                        break
                    await asyncio.sleep(0.02)
                assert bus.connected
                await _publish(url, pool, range(2, 4))
                loop = asyncio.get_running_loop()
                published = loop.time()
                for _ in range(500):  # 10 s at most
                    if len(_ids(seen)) >= 4:
                        break
                    await asyncio.sleep(0.02)
                took = loop.time() - published
                print(f"\nevents after the reconnection arrived in {took:.2f}s")
                assert _ids(seen) == ["r0", "r1", "r2", "r3"]
                assert took < 1.0
