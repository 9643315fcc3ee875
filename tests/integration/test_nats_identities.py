"""Each gie identity on a real nats-server configured from gie.security's permission
sets (as ``gie up --secure`` and the chart configure it): a service does everything it
needs and nothing else; a refused publish is logged and counted and the service goes
on; a client without credentials is turned away; the third-party reader reads routing
events and can neither publish nor change a stream."""

from __future__ import annotations

import asyncio
import ssl
import uuid
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError

from gie.bus import (
    EVENTS,
    KV,
    STATE,
    BusConnectError,
    BusMetrics,
    BusPublishError,
    Deliver,
    NatsEventBus,
)
from gie.clock import SystemClock
from gie.consume import subscribe
from gie.events import Event, RequestCompleted
from gie.events.subjects import pool_prefix, routing_subject
from gie.security import (
    READER,
    SERVICE_IDENTITIES,
    NatsCredentials,
    NatsIdentity,
    identity_of,
    inbox_prefix,
)
from gie_metrics_collector.ha.kv_membership import KvMembership
from tests.support.consume_events import completed, take
from tests.support.logs import captured_logs
from tests.support.secure_servers import SecureServer, TlsFiles, local_tls, secure_nats

pytestmark = pytest.mark.integration

_FILTER_KIND = {STATE.name: "endpoint", EVENTS.name: "routing", KV.name: "kv"}


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return local_tls(tmp_path_factory.mktemp("nats-ca"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tls: TlsFiles) -> Iterator[SecureServer]:
    with secure_nats(tmp_path_factory.mktemp("secure-nats"), tls=tls) as running:
        yield running


def credentials(server: SecureServer, identity: NatsIdentity) -> NatsCredentials:
    return NatsCredentials(
        user=identity.user,
        password_file=server.secrets.nats_password_file(identity.user),
        tls_ca_file=server.ca,
        inbox_prefix=inbox_prefix(identity),
    )


def service_bus(server: SecureServer, identity: NatsIdentity, metrics: BusMetrics) -> NatsEventBus:
    return NatsEventBus(
        server.url,
        name=f"test-{identity.service}",
        metrics=metrics,
        connect_timeout_s=5.0,
        publish_timeout_s=1.0,
        credentials=credentials(server, identity),
    )


def ca_context(server: SecureServer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.ca))


def fresh_pool() -> str:
    return f"sec/{uuid.uuid4().hex[:8]}"


def test_every_service_and_the_reader_have_an_identity() -> None:
    assert [i.service for i in SERVICE_IDENTITIES] == [
        "ingest",
        "metrics-collector",
        "flow-controller",
        "picker",
    ]
    assert identity_of("reader") is READER


async def test_a_client_without_credentials_cannot_connect(server: SecureServer) -> None:
    metrics = BusMetrics()
    bus = NatsEventBus(
        server.url,
        name="anonymous",
        metrics=metrics,
        connect_timeout_s=1.0,
        credentials=NatsCredentials(tls_ca_file=server.ca),
    )
    with pytest.raises(BusConnectError, match="refused the credentials"):
        await bus.connect()
    assert metrics.auth_failures.labels().value >= 1
    with pytest.raises(NatsError, match=r"(?i)authorization"):
        await nats.connect(
            server.url, allow_reconnect=False, connect_timeout=2, tls=ca_context(server)
        )


async def test_a_wrong_password_is_refused_with_the_user_named(
    server: SecureServer, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password")
    bus = NatsEventBus(
        server.url,
        name="wrong",
        connect_timeout_s=1.0,
        credentials=NatsCredentials(user="gie-picker", password_file=wrong, tls_ca_file=server.ca),
    )
    with pytest.raises(BusConnectError, match="refused the credentials of user 'gie-picker'"):
        await bus.connect()


@pytest.mark.parametrize("identity", SERVICE_IDENTITIES, ids=lambda i: i.service)
async def test_a_service_publishes_and_reads_what_it_needs(
    server: SecureServer, identity: NatsIdentity
) -> None:
    pool = fresh_pool()
    async with service_bus(server, identity, BusMetrics()) as bus:
        await bus.ensure_streams()  # every service sets the streams up
        for kind in identity.publishes:
            await bus.publish(f"{pool_prefix(pool)}.{kind}.x", completed(pool, 1))
        for stream in (STATE, EVENTS, KV):
            if stream.name not in identity.reads:
                continue
            seen: list[Event] = []

            async def handler(event: Event, _seen: list[Event] = seen) -> None:
                _seen.append(event)

            following = await bus.follow(
                stream,
                f"{pool_prefix(pool)}.{_FILTER_KIND[stream.name]}.>",
                handler,
                deliver=Deliver.ALL,
            )
            await asyncio.wait_for(following.caught_up.wait(), 10)
            await following.stop()
            if _FILTER_KIND[stream.name] in identity.publishes:
                assert [e.type for e in seen] == ["RequestCompleted"]  # what it published


@pytest.mark.parametrize("identity", SERVICE_IDENTITIES, ids=lambda i: i.service)
async def test_a_publish_outside_the_service_subjects_is_refused_logged_and_counted(
    server: SecureServer, identity: NatsIdentity
) -> None:
    pool = fresh_pool()
    foreign = "endpoint" if identity.service == "picker" else "routing"
    subject = f"{pool_prefix(pool)}.{foreign}.x"
    metrics = BusMetrics()
    with captured_logs("gie.bus") as logs:
        async with service_bus(server, identity, metrics) as bus:
            await bus.ensure_streams()
            with pytest.raises(BusPublishError):
                await bus.publish(subject, completed(pool, 1))
            assert bus.publish_nowait(subject, completed(pool, 2))  # handed over, refused
            await _until(lambda: metrics.permission_denied.labels("publish").value >= 2)
            assert bus.connected  # the connection stays: the service goes on
            own = f"{pool_prefix(pool)}.{identity.publishes[0]}.x"
            await bus.publish(own, completed(pool, 3))
    refusals = [e for e in logs if e["event"].startswith("NATS refused: outside")]
    assert refusals and refusals[0]["subject"] == subject
    assert refusals[0]["user"] == identity.user and refusals[0]["level"] == "error"
    assert len(refusals) == 1  # once per subject, however often it is tried


async def test_the_picker_keeps_snapshots_in_its_object_store(server: SecureServer) -> None:
    async with service_bus(server, identity_of("picker"), BusMetrics()) as bus:
        store = bus.snapshots()
        await store.put("sec-test", b"snapshot bytes")
        assert await store.get("sec-test") == b"snapshot bytes"


async def test_the_collector_joins_its_membership_bucket(server: SecureServer) -> None:
    identity = identity_of("metrics-collector")
    membership = KvMembership(
        nats_url=server.url,
        bucket="gie-collectors",
        pool=fresh_pool(),
        me="c1",
        heartbeat_s=0.5,
        clock=SystemClock(),
        connect_timeout_s=5.0,
        credentials=credentials(server, identity),
    )
    async with membership:
        assert membership.members == frozenset({"c1"})


async def test_a_service_cannot_use_another_service_bucket(server: SecureServer) -> None:
    identity = identity_of("ingest")
    membership = KvMembership(
        nats_url=server.url,
        bucket="gie-collectors",
        pool=fresh_pool(),
        me="intruder",
        heartbeat_s=0.5,
        clock=SystemClock(),
        connect_timeout_s=5.0,
        sync_timeout_s=2.0,
        credentials=credentials(server, identity),
    )
    with pytest.raises(Exception, match="membership bucket gie-collectors unusable"):
        async with membership:
            pass


async def test_the_reader_reads_routing_events_and_cannot_publish_or_change_streams(
    server: SecureServer,
) -> None:
    pool = fresh_pool()
    reader = credentials(server, READER)
    async with service_bus(server, identity_of("picker"), BusMetrics()) as picker:
        await picker.ensure_streams()
        events = subscribe(server.url, pool=pool, since="1m", credentials=reader)
        reading = asyncio.create_task(take(events, 2))
        for n in (1, 2):
            await picker.publish(routing_subject(pool, "completed"), completed(pool, n))
        got = await asyncio.wait_for(reading, 15)
        assert [e.request_id for e in got if isinstance(e, RequestCompleted)] == ["r1", "r2"]

    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    nc = await nats.connect(server.url, error_cb=on_error, **reader.connect_options())
    try:
        await nc.publish(routing_subject(pool, "completed"), b"{}")
        for change in ("DELETE", "PURGE", "UPDATE", "CREATE"):
            with pytest.raises((NatsTimeoutError, NoRespondersError)):
                await nc.request(f"$JS.API.STREAM.{change}.{EVENTS.name}", b"{}", timeout=0.5)
        await nc.flush()
        await _until(lambda: len(errors) >= 5)
    finally:
        await nc.close()
    refused = " ".join(str(e) for e in errors)  # nats-py lower-cases the server's errors
    assert f'publish to "{routing_subject(pool, "completed")}"'.lower() in refused
    for change in ("DELETE", "PURGE", "UPDATE", "CREATE"):
        assert f"$JS.API.STREAM.{change}.{EVENTS.name}".lower() in refused
    async with service_bus(server, identity_of("picker"), BusMetrics()) as picker:
        # the stream is still there, unchanged
        await picker.publish(routing_subject(pool, "completed"), completed(pool, 3))


async def _until(check: object, timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not (callable(check) and check()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_plain_text_and_a_server_of_another_ca_are_refused(
    server: SecureServer, tmp_path: Path
) -> None:
    picker = identity_of("picker")
    plain = server.url.replace("tls://", "nats://")
    with pytest.raises((NatsError, OSError), match=r"(?i)tls|secure|certificate"):
        await nats.connect(
            plain,
            allow_reconnect=False,
            connect_timeout=2,
            **{
                "user": picker.user,
                "password": server.secrets.nats[picker.user],
            },
        )
    other = local_tls(tmp_path / "other-ca")
    bus = NatsEventBus(
        server.url,
        name="other-ca",
        connect_timeout_s=1.0,
        credentials=NatsCredentials(
            user=picker.user,
            password_file=server.secrets.nats_password_file(picker.user),
            tls_ca_file=other.ca,
        ),
    )
    with pytest.raises(BusConnectError, match=r"(?i)certificate verify failed"):
        await bus.connect()
