"""Health probes and waiting for readiness."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gie_cli.devstack import PartStartError, free_port
from gie_cli.devstack.readiness import log_tail, probe, redis_ping, wait_until_ready


@pytest.fixture
async def fake_redis() -> AsyncIterator[int]:
    """A loopback server answering every line with +PONG."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            if line.strip().upper() == b"PING":
                writer.write(b"+PONG\r\n")
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield int(server.sockets[0].getsockname()[1])


async def test_redis_ping_answers_pong(fake_redis: int) -> None:
    assert await redis_ping("127.0.0.1", fake_redis)
    async with httpx.AsyncClient() as client:
        assert await probe(client, f"redis://127.0.0.1:{fake_redis}")


async def test_redis_ping_false_when_nothing_listens() -> None:
    assert not await redis_ping("127.0.0.1", free_port(), timeout_s=0.5)


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False), (404, False)], ids=str)
async def test_http_probe_is_healthy_only_on_200(status: int, healthy: bool) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status))
    async with httpx.AsyncClient(transport=transport) as client:
        assert await probe(client, "http://127.0.0.1:1/readyz") is healthy


async def test_http_probe_false_on_connection_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        assert not await probe(client, "http://127.0.0.1:1/readyz")


def test_log_tail_keeps_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert log_tail(log, lines=3) == "line 97\nline 98\nline 99"
    assert log_tail(tmp_path / "missing.log") == ""


def _python(tmp_path: Path, code: str) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / "part.log"
    with open(log, "wb") as out:
        child = subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=out)
    return child, log


async def test_wait_fails_fast_with_log_tail_when_the_part_exits(tmp_path: Path) -> None:
    child, log = _python(tmp_path, "print('bad config: port'); raise SystemExit(3)")

    async def never() -> bool:
        return False

    with pytest.raises(PartStartError) as caught:
        await wait_until_ready(part="nats", check=never, child=child, log_path=log, timeout_s=30)
    assert caught.value.part == "nats"
    assert "exited with code 3" in str(caught.value)
    assert "bad config: port" in caught.value.log_tail


async def test_wait_times_out_naming_the_part(tmp_path: Path) -> None:
    child, log = _python(tmp_path, "import time; print('booting', flush=True); time.sleep(30)")

    async def never() -> bool:
        return False

    try:
        with pytest.raises(PartStartError, match=r"picker: not ready after 0.3s") as caught:
            await wait_until_ready(
                part="picker", check=never, child=child, log_path=log, timeout_s=0.3
            )
    finally:
        child.kill()
        child.wait()
    assert caught.value.log_path == log


async def test_wait_returns_once_the_check_passes(tmp_path: Path) -> None:
    child, log = _python(tmp_path, "import time; time.sleep(30)")
    calls = 0

    async def third_time_lucky() -> bool:
        nonlocal calls
        calls += 1
        return calls >= 3

    try:
        await wait_until_ready(
            part="envoy", check=third_time_lucky, child=child, log_path=log, timeout_s=10
        )
    finally:
        child.kill()
        child.wait()
    assert calls == 3
