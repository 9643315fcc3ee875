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
from gie.consume import tail
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


async def test_a_stopped_following_stays_stopped_after_the_bus_reconnects(
    tmp_path: Path,
) -> None:
    """A service stops followings as its role changes (a collector's peer feed, a KV
    event source that reconnected): a NATS restart must not bring them back to life
    beside their replacements, delivering every event twice."""
    port, store = free_port(), str(tmp_path / "jetstream")
    pool = f"stopped/{uuid.uuid4().hex[:8]}"
    stopped: list[Event] = []
    kept: list[Event] = []
    subject = f"{pool_prefix(pool)}.routing.>"
    with contextlib.ExitStack() as first_server:
        url = first_server.enter_context(nats_server(port=port, store=store))
        async with NatsEventBus(url, name="follower") as bus:
            await bus.ensure_streams()
            old = await bus.follow(EVENTS, subject, stopped.append, deliver=Deliver.ALL)
            new = await bus.follow(EVENTS, subject, kept.append, deliver=Deliver.ALL)
            await asyncio.wait_for(new.caught_up.wait(), 10)
            await old.stop()
            first_server.close()
            await asyncio.sleep(0.3)
            with nats_server(port=port, store=store) as url:
                await _publish(url, pool, range(3))

                async def arrived() -> bool:
                    return len(_ids(kept)) == 3

                await eventually(arrived, timeout_s=20, what="the kept following's events")
                await asyncio.sleep(0.5)
                assert stopped == []


async def test_events_tail_from_a_time_goes_on_after_nats_restarts(tmp_path: Path) -> None:
    port, store = free_port(), str(tmp_path / "jetstream")
    pool = f"tail/{uuid.uuid4().hex[:8]}"
    with contextlib.ExitStack() as first_server:
        url = first_server.enter_context(nats_server(port=port, store=store))
        async with NatsEventBus(url, name="publisher") as bus:
            await bus.ensure_streams()
        await _publish(url, pool, range(1))
        events = tail(url, pool=pool, since=datetime.now(UTC) - timedelta(minutes=5))
        try:
            first = await asyncio.wait_for(anext(events), 10)
            assert isinstance(first.event, RequestRouted) and first.event.request_id == "r0"
            first_server.close()
            await asyncio.sleep(0.5)
            with nats_server(port=port, store=store) as url:
                await _publish(url, pool, range(1, 2))
                after = await asyncio.wait_for(anext(events), 30)
                assert isinstance(after.event, RequestRouted) and after.event.request_id == "r1"
        finally:
            await events.aclose()
