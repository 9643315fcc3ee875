"""Session fixtures shared by every test layer.

``nats_url`` / ``redis_url`` come from, in order: ``GIE_TEST_NATS_URL`` /
``GIE_TEST_REDIS_URL`` when set; containers when a Docker engine and
testcontainers are available; otherwise real server processes started on free
loopback ports (nats-server from its wheel, redis-server or valkey).
``secure_redis_server``: Debian's ``redis-server`` with TLS and gie's ACL users.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from tests.support.containers import docker_available, nats_container, redis_container
from tests.support.secure_servers import SecureRedis, local_tls, secure_redis
from tests.support.servers import nats_server, redis_server

Factory = Callable[[], AbstractContextManager[str]]


def _server(variable: str, container: Factory, process: Factory) -> Iterator[str]:
    external = os.environ.get(variable)
    if external:
        yield external
        return
    factory = container if docker_available() else process
    with contextlib.ExitStack() as stack:
        yield stack.enter_context(factory())


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    yield from _server("GIE_TEST_NATS_URL", nats_container, nats_server)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    yield from _server("GIE_TEST_REDIS_URL", redis_container, redis_server)


@pytest.fixture(scope="session")
def secure_redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureRedis]:
    """Debian's redis-server as ``gie up --secure`` runs it: TLS only (a local CA), the
    ACL users of gie.security, the default user off."""
    tls = local_tls(tmp_path_factory.mktemp("redis-ca"))
    with secure_redis(tmp_path_factory.mktemp("secure-redis"), tls=tls) as server:
        yield SecureRedis(server, tls)
