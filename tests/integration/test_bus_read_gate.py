"""Reading the event stream in bursts (``NatsEventBus.read_in_bursts``) on real NATS,
over plain TCP and over TLS (as the picker's identity, as ``gie up --secure`` runs it):
events wait until the gate is poked, settled or its delay passes; none is lost or
reordered."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gie.bus import EVENTS, Deliver, NatsEventBus
from gie.bus.read_gate import ReadGate
from gie.events import Event, RequestRouted
from gie.events.subjects import pool_prefix, routing_subject
from gie.security import NatsCredentials, identity_of, inbox_prefix
from gie_cli.devstack.ports import free_port
from tests.support.flow_replicas import eventually
from tests.support.routing_events import routed
from tests.support.secure_servers import local_tls, secure_nats
from tests.support.servers import nats_server

pytestmark = pytest.mark.integration

PICKER = identity_of("picker")

QUIET = 30.0  # a timer that does not fire during a test


@dataclass(frozen=True)
class Server:
    url: str
    credentials: NatsCredentials | None = None  # None: anonymous, plain TCP

    def bus(self, name: str) -> NatsEventBus:
        return NatsEventBus(self.url, name=name, credentials=self.credentials)


@pytest.fixture(scope="module", params=["plain", "tls"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    if request.param == "plain":
        yield Server(request.getfixturevalue("nats_url"))
        return
    tls = local_tls(tmp_path_factory.mktemp("gate-ca"))
    with secure_nats(tmp_path_factory.mktemp("gate-nats"), tls=tls) as running:
        yield Server(
            running.url,
            NatsCredentials(
                user=PICKER.user,
                password_file=running.secrets.nats_password_file(PICKER.user),
                tls_ca_file=running.ca,
                inbox_prefix=inbox_prefix(PICKER),
            ),
        )


@dataclass
class Follower:
    pool: str
    bus: NatsEventBus
    seen: list[Event] = field(default_factory=list)

    def ids(self) -> list[str]:
        return [e.request_id for e in self.seen if isinstance(e, RequestRouted)]

    async def has(self, count: int, *, within_s: float, what: str) -> None:
        async def arrived() -> bool:
            return len(self.seen) == count

        await eventually(arrived, timeout_s=within_s, what=what)


@contextlib.asynccontextmanager
async def follower(server: Server, pool: str | None = None) -> AsyncIterator[Follower]:
    """A bus following one pool's routing events from now on."""
    async with server.bus("follower") as bus:
        await bus.ensure_streams()
        state = Follower(pool or f"gate/{uuid.uuid4().hex[:8]}", bus)
        following = await bus.follow(
            EVENTS, f"{pool_prefix(state.pool)}.routing.>", state.seen.append, deliver=Deliver.NEW
        )
        await asyncio.wait_for(following.caught_up.wait(), 10)
        yield state


async def publish(server: Server, pool: str, numbers: range, *, model: str = "m") -> None:
    async with server.bus("publisher") as publisher:
        for n in numbers:
            event = routed(pool, n, model)
            await publisher.publish(routing_subject(pool, "routed"), event, confirm=False)
        await publisher.publish(routing_subject(pool, "routed"), routed(pool, -1))  # flushed


async def test_events_wait_for_settle_then_arrive_complete_and_in_order(server: Server) -> None:
    async with follower(server) as f:
        gate = f.bus.read_in_bursts(max_delay_s=QUIET)
        await publish(server, f.pool, range(50))
        await asyncio.sleep(0.3)  # long enough for every event to reach the socket
        assert f.seen == []  # waiting in the socket, not read
        await gate.settle()
        assert f.ids() == [f"r{n}" for n in range(50)] + ["r-1"]
        await gate.settle()  # nothing waiting: returns at once
        assert len(f.seen) == 51


async def test_a_poke_reads_what_has_arrived(server: Server) -> None:
    async with follower(server) as f:
        gate = f.bus.read_in_bursts(max_delay_s=QUIET)
        await publish(server, f.pool, range(3))
        await asyncio.sleep(0.3)
        assert f.seen == []
        gate.poke()
        for _ in range(10):
            await asyncio.sleep(0)
        assert len(f.seen) == 4


async def test_an_idle_gate_still_reads_within_its_delay(server: Server) -> None:
    async with follower(server) as f:
        gate = f.bus.read_in_bursts(max_delay_s=0.2)
        await publish(server, f.pool, range(5))
        await f.has(6, within_s=2.0, what="the timer's read")
        assert gate.bursts >= 1


async def test_a_gate_poked_often_enough_never_reads_by_its_timer(server: Server) -> None:
    async with follower(server) as f:
        gate = f.bus.read_in_bursts(max_delay_s=0.3)
        for _ in range(8):  # 0.8 s of pokes 0.1 s apart: each one opens the gate
            gate.poke()
            await asyncio.sleep(0.1)
        assert gate.bursts == 8  # the timer found a recent burst every time
        await publish(server, f.pool, range(2))  # after the last poke: the timer reads it
        await f.has(3, within_s=2.0, what="the timer's read after the pokes stopped")
        assert gate.bursts >= 9


async def test_publishing_is_not_held_by_a_closed_gate(server: Server) -> None:
    async with follower(server) as gated, follower(server, gated.pool) as observer:
        gated.bus.read_in_bursts(max_delay_s=QUIET)
        for n in range(5):
            event = routed(gated.pool, n)
            await gated.bus.publish(routing_subject(gated.pool, "routed"), event, confirm=False)
        # The other connection reads as usual; the gated one has not read its own.
        await observer.has(5, within_s=5.0, what="the published events")
        assert gated.seen == []


async def test_a_backlog_larger_than_one_read_is_drained_by_one_settle(server: Server) -> None:
    async with follower(server) as f:
        gate: ReadGate = f.bus.read_in_bursts(max_delay_s=QUIET)
        # ~2.4 KB per event: 400 events are ~1 MB, several 256 KiB socket reads.
        await publish(server, f.pool, range(400), model="x" * 2000)
        await asyncio.sleep(0.5)
        await gate.settle()
        assert len(f.seen) == 401
        assert f.ids()[-1] == "r-1"


async def test_burst_reading_survives_a_nats_restart(tmp_path: Path) -> None:
    port, store = free_port(), str(tmp_path / "jetstream")
    with contextlib.ExitStack() as first_server:
        url = first_server.enter_context(nats_server(port=port, store=store))
        async with follower(Server(url)) as f:
            gate = f.bus.read_in_bursts(max_delay_s=0.1)
            await publish(Server(url), f.pool, range(2))
            await f.has(3, within_s=5, what="events before the restart")
            first_server.close()  # NATS goes away under the gated connection
            for _ in range(5):  # deciding while NATS is down: no error, nothing to read
                await gate.settle()
                await asyncio.sleep(0.1)
            with nats_server(port=port, store=store) as url:  # same port, same stream
                await publish(Server(url), f.pool, range(2, 4))
                await f.has(6, within_s=20, what="events after the restart")
                assert f.ids() == ["r0", "r1", "r-1", "r2", "r3", "r-1"]


async def test_the_gate_still_holds_events_after_a_burst_larger_than_the_reader_buffer(
    server: Server,
) -> None:
    # nats-py's stream reader pauses the socket itself above 64 KiB buffered and
    # resumes it once drained; it must not leave the socket read on every arrival.
    async with follower(server) as f:
        gate: ReadGate = f.bus.read_in_bursts(max_delay_s=QUIET)
        await publish(server, f.pool, range(200), model="x" * 2000)  # ~0.5 MB
        await asyncio.sleep(0.5)
        await gate.settle()
        assert len(f.seen) == 201
        await asyncio.sleep(0.2)  # the reader has drained what the burst buffered
        await publish(server, f.pool, range(200, 203))
        await asyncio.sleep(0.3)
        assert len(f.seen) == 201  # waiting in the socket again, not read one by one
        await gate.settle()
        assert f.ids()[-4:] == ["r200", "r201", "r202", "r-1"]
