"""The flow-controller's Redis ACL user on a real redis-server over TLS, configured as
``gie up --secure`` configures it: everything the flow-controller does works (the
whole flow-state contract runs as this user in test_flowcontrol_store_contract);
anything else is refused; a client without credentials, or without TLS, gets nothing."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, ConnectionError, NoPermissionError, ResponseError

from gie.security import FLOW_CONTROLLER_REDIS, RedisCredentials
from gie_flow_controller.redis_client import redis_client
from gie_flow_controller.settings import FlowControllerSettings
from gie_flow_controller.state.keys import PoolKeys
from tests.support.secure_servers import SecureRedis, SecureServer, TlsFiles, local_tls

pytestmark = pytest.mark.integration

USER = FLOW_CONTROLLER_REDIS.user


@pytest.fixture
def tls(secure_redis_server: SecureRedis) -> TlsFiles:
    return secure_redis_server.tls


@pytest.fixture
def server(secure_redis_server: SecureRedis) -> SecureServer:
    return secure_redis_server.server


@pytest.fixture
async def flow_controller(server: SecureServer, tls: TlsFiles) -> AsyncIterator[Redis]:
    """The client the flow-controller makes from its settings."""
    settings = FlowControllerSettings(
        redis_url=server.url,
        redis_username=USER,
        redis_password_file=server.secrets.redis_password_file(USER),
        redis_tls_ca_file=tls.ca,
    )
    client = redis_client(settings)
    try:
        yield client
    finally:
        await client.aclose()


async def test_the_flow_controller_user_works_on_its_pool_keys(flow_controller: Redis) -> None:
    keys = PoolKeys(f"acl/{uuid.uuid4().hex[:8]}")
    assert await flow_controller.ping()
    assert await flow_controller.hmget(keys.request("r1"), ["outcome"]) == [None]
    assert await flow_controller.exists(keys.request("r1")) == 0
    pubsub = flow_controller.pubsub()
    await pubsub.subscribe(keys.outcomes, keys.wake)
    await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]


@pytest.mark.parametrize(
    "command",
    [
        ("KEYS", "*"),
        ("FLUSHALL",),
        ("CONFIG", "GET", "*"),
        ("ACL", "LIST"),
        ("SET", "someone-else:key", "x"),
        ("GET", "someone-else:key"),
        ("HGETALL", "{gie:p}:fc:meta"),  # its own key, a command it never runs
        ("SCAN", "0"),
        ("EVAL", "return redis.call('SET', 'someone-else:key', 'x')", "0"),
        ("SCRIPT", "FLUSH"),
        ("SHUTDOWN",),
        ("PUBLISH", "someone-else", "x"),
    ],
    ids=lambda c: " ".join(c[:2]),
)
async def test_the_flow_controller_user_cannot_run_anything_else(
    flow_controller: Redis, command: tuple[str, ...]
) -> None:
    with pytest.raises(NoPermissionError, match=r"(?i)permission"):
        await flow_controller.execute_command(*command)


async def test_a_script_of_the_user_cannot_reach_other_keys(flow_controller: Redis) -> None:
    sha = await flow_controller.script_load("return redis.call('GET', 'someone-else:key')")
    with pytest.raises(ResponseError, match=r"can.t access at least one of the keys"):
        await flow_controller.evalsha(sha, 0)


async def test_a_client_without_credentials_gets_nothing(
    server: SecureServer, tls: TlsFiles
) -> None:
    anonymous = Redis.from_url(server.url, ssl_ca_certs=str(tls.ca))
    try:
        with pytest.raises(AuthenticationError, match=r"(?i)auth"):
            await anonymous.ping()
    finally:
        await anonymous.aclose()


async def test_a_wrong_password_is_refused(
    server: SecureServer, tls: TlsFiles, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("nope")
    options = RedisCredentials(username=USER, password_file=wrong, tls_ca_file=tls.ca)
    client = Redis.from_url(server.url, **options.client_options())
    try:
        with pytest.raises(AuthenticationError):
            await client.ping()
    finally:
        await client.aclose()


async def test_plain_text_is_not_served(server: SecureServer) -> None:
    plain = Redis.from_url(server.url.replace("rediss://", "redis://"), socket_timeout=2)
    try:
        with pytest.raises((ConnectionError, TimeoutError, OSError)):
            await plain.ping()
    finally:
        await plain.aclose()


async def test_a_server_certificate_from_another_ca_is_refused(
    server: SecureServer, tmp_path: Path
) -> None:
    other = local_tls(tmp_path / "other-ca")
    client = Redis.from_url(server.url, ssl_ca_certs=str(other.ca), socket_timeout=2)
    try:
        with pytest.raises(ConnectionError) as caught:
            await client.ping()
    finally:
        await client.aclose()
    # redis-py names the cause in its message only in later releases; the chain has it in all.
    causes = []
    error: BaseException | None = caught.value
    while error is not None:
        causes.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(cause, ssl.SSLCertVerificationError) for cause in causes), causes
