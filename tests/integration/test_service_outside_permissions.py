"""A real service process whose NATS identity lacks a right it uses: the ingest may
publish endpoints but (in this server's configuration) not objectives. Its refused
publishes are logged naming the subject and counted; it keeps running, keeps
publishing what it may, and is not restarted into a crash loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from gie.bus import STATE, BusMetrics, Deliver, NatsEventBus
from gie.events import Event
from gie.events.subjects import pool_prefix
from gie.security import NatsCredentials, identity_of, inbox_prefix
from gie_cli.devstack.ports import free_port
from tests.support.secure_servers import SecureServer, local_tls, secure_nats

pytestmark = pytest.mark.integration

POOL = "perm/ingest"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SecureServer]:
    narrowed = replace(identity_of("ingest"), publishes=("endpoint",))
    identities = (narrowed, identity_of("picker"))
    with secure_nats(tmp_path / "nats", tls=local_tls(tmp_path / "ca"), identities=identities) as s:
        yield s


def tail_of(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_a_refused_publish_is_logged_counted_and_the_service_keeps_running(
    server: SecureServer, tmp_path: Path
) -> None:
    pool_file = tmp_path / "pool.yaml"
    pool_file.write_text(
        f"pool: {POOL}\nendpoints: [10.0.0.1:8000]\nobjectives:\n  - {{name: gold, priority: 5}}\n"
    )
    admin = free_port()
    env = {
        **os.environ,
        "GIE_NATS_URL": server.url,
        "GIE_POOL": POOL,
        "GIE_POOL_FILE": str(pool_file),
        "GIE_ADMIN_PORT": str(admin),
        "GIE_LOG_FORMAT": "json",
        "GIE_NATS_USER": "gie-ingest",
        "GIE_NATS_PASSWORD_FILE": str(server.secrets.nats_password_file("gie-ingest")),
        "GIE_NATS_TLS_CA_FILE": str(server.ca),
    }
    log = tmp_path / "ingest.log"
    with running_ingest(env, log) as proc:
        await watch(server, proc, admin, log)
    text = log.read_text()
    assert "NATS refused: outside this identity's permissions" in text
    assert f"{pool_prefix(POOL)}.objective.gold" in text


@contextlib.contextmanager
def running_ingest(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gie_ingest"], env=env, stdout=out, stderr=out
        )
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=15)


async def watch(server: SecureServer, proc: subprocess.Popen[bytes], admin: int, log: Path) -> None:
    picker = identity_of("picker")
    seen: list[Event] = []
    observer = NatsEventBus(
        server.url,
        name="observer",
        metrics=BusMetrics(),
        connect_timeout_s=10,
        credentials=NatsCredentials(
            user=picker.user,
            password_file=server.secrets.nats_password_file(picker.user),
            tls_ca_file=server.ca,
            inbox_prefix=inbox_prefix(picker),
        ),
    )
    async with observer:
        await observer.ensure_streams()
        await observer.follow(STATE, f"{pool_prefix(POOL)}.>", seen.append, deliver=Deliver.ALL)
        denied = 0.0
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient(trust_env=False) as client:
            while time.monotonic() < deadline:
                assert proc.poll() is None, tail_of(log)
                try:
                    text = (await client.get(f"http://127.0.0.1:{admin}/metrics")).text
                    denied = metric(text, 'gie_bus_permission_denied_total{operation="publish"}')
                except httpx.HTTPError:
                    pass
                if denied >= 1 and any(e.type == "EndpointUpserted" for e in seen):
                    break
                await asyncio.sleep(0.2)
        assert denied >= 1, tail_of(log)
        # What it may publish got through; the objective did not.
        assert [e.type for e in seen] == ["EndpointUpserted"]
        await asyncio.sleep(3)  # a few retries later: still up, not restarted
        assert proc.poll() is None, tail_of(log)
