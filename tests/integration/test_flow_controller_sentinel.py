"""The flow-controller finds its Redis through Redis Sentinel (GIE_REDIS_SENTINELS).

A real Sentinel (the Redis-protocol server in sentinel mode) monitors a real server;
the client built from the settings reaches the master the Sentinel names, without any
Redis URL.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.exceptions import AuthenticationError

from gie_cli.devstack.binaries import find_redis_server
from gie_cli.devstack.ports import free_port
from gie_flow_controller.redis_client import redis_client
from gie_flow_controller.settings import FlowControllerSettings, parse_sentinels

pytestmark = pytest.mark.integration


def _answers(port: int, command: bytes, expected: bytes) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(command)
            return expected in sock.recv(4096)
    except OSError:
        return False


@pytest.fixture
def sentinel(redis_url: str, tmp_path: Path) -> Iterator[int]:
    """A Sentinel monitoring the session's Redis as master ``gie``; yields its port."""
    master_port = int(redis_url.rsplit(":", 1)[1].split("/", maxsplit=1)[0])
    port = free_port()
    config = tmp_path / "sentinel.conf"
    config.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor gie 127.0.0.1 {master_port} 1\n"
    )
    proc = subprocess.Popen(
        [str(find_redis_server()), str(config), "--sentinel"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        query = b"SENTINEL get-master-addr-by-name gie\r\n"
        while not _answers(port, query, str(master_port).encode()):
            assert proc.poll() is None, "the sentinel exited"
            assert time.monotonic() < deadline, "the sentinel never named the master"
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_the_client_reaches_the_master_the_sentinel_names(sentinel: int) -> None:
    settings = FlowControllerSettings(
        redis_url="redis://127.0.0.1:1/0",  # unused with Sentinels: nothing listens there
        redis_sentinels=f"127.0.0.1:{sentinel}",
        redis_master_name="gie",
    )
    client = redis_client(settings)
    try:
        await client.set("gie-test:sentinel", "reached")
        assert await client.get("gie-test:sentinel") == b"reached"
    finally:
        await client.delete("gie-test:sentinel")
        await client.aclose()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", [], id="none"),
        pytest.param("a:26379", [("a", 26379)], id="one"),
        pytest.param("a:1, b:2,", [("a", 1), ("b", 2)], id="several"),
    ],
)
def test_sentinel_addresses_are_parsed(text: str, expected: list[tuple[str, int]]) -> None:
    assert parse_sentinels(text) == expected


@pytest.mark.parametrize("text", ["a", "a:", ":1", "a:0", "a:port"])
def test_a_bad_sentinel_address_stops_start_up_naming_it(text: str) -> None:
    with pytest.raises(ValueError, match="Sentinel address is host:port"):
        FlowControllerSettings(redis_sentinels=text)


@pytest.fixture
def password_redis(tmp_path: Path) -> Iterator[int]:
    """A Redis-protocol server that requires the password ``pw``; yields its port."""
    port = free_port()
    proc = subprocess.Popen(
        [str(find_redis_server()), "--port", str(port), "--bind", "127.0.0.1",
         "--dir", str(tmp_path), "--save", "", "--requirepass", "pw"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while not _answers(port, b"PING\r\n", b"NOAUTH"):
            assert proc.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server never answered"
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_the_password_setting_is_used_with_a_url(password_redis: int) -> None:
    url = f"redis://127.0.0.1:{password_redis}/0"
    client = redis_client(FlowControllerSettings(redis_url=url, redis_password="pw"))
    try:
        assert await client.ping()
    finally:
        await client.aclose()
    without = redis_client(FlowControllerSettings(redis_url=url))
    try:
        with pytest.raises(AuthenticationError):
            await without.ping()
    finally:
        await without.aclose()
