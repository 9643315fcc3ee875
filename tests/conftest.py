"""Session fixtures shared by every test layer.

``nats_url`` / ``redis_url`` start real servers on free loopback ports unless
``GIE_TEST_NATS_URL`` / ``GIE_TEST_REDIS_URL`` point at running ones.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.servers import nats_server, redis_server


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    external = os.environ.get("GIE_TEST_NATS_URL")
    if external:
        yield external
        return
    with nats_server() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    external = os.environ.get("GIE_TEST_REDIS_URL")
    if external:
        yield external
        return
    with redis_server() as url:
        yield url
