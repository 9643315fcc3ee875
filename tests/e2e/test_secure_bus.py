"""``gie up --secure``, the bus and flow-state half: NATS and Redis over TLS with a user
per service.

One secure stack for the module (real nats-server, Debian's redis-server, Envoy, the
four services, simulators). Requests route through it; every service is connected to
NATS over TLS as its own user and never strays outside its permissions; the
third-party reader reads the routing events the picker publishes and its publish is
refused; a client without credentials gets nothing from NATS or Redis.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import nats
import pytest
import pytest_asyncio
from nats.errors import Error as NatsError
from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, NoPermissionError

from gie.consume import subscribe
from gie.events import RequestRouted
from gie.events.subjects import routing_subject
from gie.security import FLOW_CONTROLLER_REDIS, READER, SERVICE_IDENTITIES, NatsCredentials
from gie_cli.devstack import PartStartError, StackOptions, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

MODEL = "sim-llama"
BODY = {"model": MODEL, "prompt": "hello there", "max_tokens": 3}


@dataclass(frozen=True)
class Stack:
    gateway: str
    nats_url: str
    nats_monitor: str
    redis_url: str
    pool: str
    pki: Path
    nats_log: Path
    admins: dict[str, str]
    state_dir: Path

    @property
    def ca(self) -> Path:
        return self.pki / "ca.pem"

    def password_file(self, kind: str, user: str) -> Path:
        return self.pki / "secrets" / f"{kind}-{user}.password"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    options = StackOptions(
        state_dir=tmp_path_factory.mktemp("secure-bus-stack"), sims=2, time_scale=0.05, secure=True
    )
    try:
        running = await start_stack(options)
    except PartStartError as error:
        pytest.fail(f"secure stack did not start: {error}\n{error.log_tail}", pytrace=False)
    parts = {part.name: part for part in running.state.parts}
    try:
        yield Stack(
            gateway=running.gateway,
            nats_url=parts["nats"].addresses["client"],
            nats_monitor=parts["nats"].addresses["monitor"],
            redis_url=parts["redis"].addresses["url"],
            pool=running.state.pool,
            pki=running.state.data_dir / "pki",
            nats_log=running.state.process("nats").log,
            admins={
                p.name: p.addresses["admin"] for p in running.state.parts if p.kind == "service"
            },
            state_dir=running.store.root,
        )
    finally:
        await running.stop()


def _http() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=30.0, trust_env=False)


def reader(stack: Stack) -> NatsCredentials:
    return NatsCredentials(
        user=READER.user,
        password_file=stack.password_file("nats", READER.user),
        tls_ca_file=stack.ca,
    )


async def test_routing_works_and_every_service_is_its_own_nats_user_over_tls(
    stack: Stack,
) -> None:
    assert stack.nats_url.startswith("tls://") and stack.redis_url.startswith("rediss://")
    async with _http() as client:
        responses = [
            await client.post(f"{stack.gateway}/v1/completions", json=BODY) for _ in range(10)
        ]
        assert [r.status_code for r in responses] == [200] * 10
        connz = (await client.get(f"{stack.nats_monitor}/connz?auth=true&limit=1000")).json()
    by_user: dict[str, set[str]] = {}
    for connection in connz["connections"]:
        assert connection.get("tls_version"), connection  # no plain-text connection
        by_user.setdefault(connection.get("authorized_user", ""), set()).add(connection["name"])
    for identity in SERVICE_IDENTITIES:  # each service's connections, under its own user
        assert by_user[identity.user], identity.user
        assert all(f"-{identity.service}-" in name for name in by_user[identity.user])
    # Nothing any service did was outside its permissions.
    assert "Violation" not in stack.nats_log.read_text(errors="replace")
    async with _http() as client:
        for name, admin in stack.admins.items():
            text = (await client.get(f"{admin}/metrics")).text
            denied = [
                line
                for line in text.splitlines()
                if line.startswith("gie_bus_permission_denied_total{") and not line.endswith(" 0.0")
            ]
            assert denied == [], name


async def test_the_reader_reads_routing_events_and_cannot_publish(stack: Stack) -> None:
    events = subscribe(
        stack.nats_url, pool=stack.pool, types=["RequestRouted"], credentials=reader(stack)
    )
    first = asyncio.ensure_future(anext(events))
    await asyncio.sleep(1.0)  # the consumer exists before the request
    async with _http() as client:
        response = await client.post(f"{stack.gateway}/v1/completions", json=BODY)
    assert response.status_code == 200
    routed = await asyncio.wait_for(first, 30)
    assert isinstance(routed, RequestRouted) and routed.model == MODEL
    await events.aclose()

    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    nc = await nats.connect(stack.nats_url, error_cb=on_error, **reader(stack).connect_options())
    try:
        await nc.publish(routing_subject(stack.pool, "routed"), b"[]")
        await nc.flush()
        for _ in range(50):
            if errors:
                break
            await asyncio.sleep(0.1)
    finally:
        await nc.close()
    assert "permissions violation for publish" in " ".join(map(str, errors))


async def test_a_client_without_credentials_gets_nothing_from_nats_or_redis(stack: Stack) -> None:
    context = ssl.create_default_context(cafile=str(stack.ca))
    with pytest.raises(NatsError, match=r"(?i)authorization"):
        await nats.connect(stack.nats_url, tls=context, allow_reconnect=False, connect_timeout=5)
    anonymous = Redis.from_url(stack.redis_url, ssl_ca_certs=str(stack.ca))
    try:
        with pytest.raises(AuthenticationError):
            await anonymous.ping()
    finally:
        await anonymous.aclose()


async def test_the_flow_controller_redis_user_is_held_to_its_acl(stack: Stack) -> None:
    user = FLOW_CONTROLLER_REDIS.user
    client = Redis.from_url(
        stack.redis_url,
        username=user,
        password=stack.password_file("redis", user).read_text(),
        ssl_ca_certs=str(stack.ca),
    )
    try:
        assert await client.ping()
        with pytest.raises(NoPermissionError):
            await client.execute_command("KEYS", "*")
        with pytest.raises(NoPermissionError):
            await client.execute_command("FLUSHALL")
    finally:
        await client.aclose()


async def test_gie_events_tail_reads_the_secure_stack_as_the_reader(stack: Stack) -> None:
    async with _http() as client:
        response = await client.post(f"{stack.gateway}/v1/completions", json=BODY)
    assert response.status_code == 200
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gie_cli",
        "events",
        "tail",
        "--state-dir",
        str(stack.state_dir),
        "--since",
        "10m",
        "--count",
        "1",
        "--json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    line = json.loads(out.decode().splitlines()[0])
    assert line["stream"] == "GIE_EVENTS" and line["event"]["pool"] == stack.pool
