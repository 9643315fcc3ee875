"""The private nats-py state the NATS adapter's shortcuts use is where they expect it.

nats-py is bounded above in pyproject.toml because of these shortcuts. When a new
release moves one, this test fails naming it (``Client._pending``, ...): adapt
``gie.bus.nats_internals`` to the new release before raising the bound. The adapter
itself keeps working on such a release (each shortcut checks first and otherwise
leaves the work to nats-py's public path) and logs what moved at connect.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import nats
import pytest

from gie.bus import NatsEventBus
from gie.bus.nats_internals import moved_internals, nats_py_version
from gie.bus.streams import EVENTS
from gie.events.subjects import pool_prefix
from gie.security import NatsCredentials, identity_of
from tests.support.secure_servers import local_tls, secure_nats

pytestmark = pytest.mark.integration


async def test_a_connected_client_holds_what_the_shortcuts_use(nats_url: str) -> None:
    nc = await nats.connect(servers=[nats_url], name="internals")
    try:
        moved = moved_internals(nc)
    finally:
        await nc.close()
    assert moved == [], f"nats-py {nats_py_version()} moved {', '.join(moved)}"


async def test_a_tls_connection_has_the_tcp_transport_the_read_gate_pauses(
    tmp_path: Path,
) -> None:
    picker = identity_of("picker")
    with secure_nats(tmp_path / "nats", tls=local_tls(tmp_path / "ca")) as server:
        credentials = NatsCredentials(
            user=picker.user,
            password_file=server.secrets.nats_password_file(picker.user),
            tls_ca_file=server.ca,
        )
        nc = await nats.connect(
            servers=[server.url], name="internals-tls", **credentials.connect_options()
        )
        try:
            moved = moved_internals(nc)
        finally:
            await nc.close()
    assert moved == [], f"nats-py {nats_py_version()} moved {', '.join(moved)}"


async def test_an_ordered_consumer_holds_what_the_flow_control_shortcut_uses(
    nats_url: str,
) -> None:
    pool = f"internals/{uuid.uuid4().hex[:8]}"
    async with NatsEventBus(nats_url, name="internals-streams") as bus:
        await bus.ensure_streams()
    nc = await nats.connect(servers=[nats_url], name="internals-consumer")
    try:
        sub = await nc.jetstream().subscribe(
            f"{pool_prefix(pool)}.routing.>",
            stream=EVENTS.name,
            ordered_consumer=True,
            idle_heartbeat=2.0,
        )
        moved = moved_internals(nc, sub)
        await sub.unsubscribe()
    finally:
        await nc.close()
    assert moved == [], f"nats-py {nats_py_version()} moved {', '.join(moved)}"


def test_a_client_without_the_internals_is_reported_by_name() -> None:
    class Elsewhere:  # what a release that reorganised its client would look like
        stats: dict[str, int] = {}

    moved = moved_internals(Elsewhere(), Elsewhere())  # type: ignore[arg-type]
    assert "Client._pending" in moved
    assert "Client._flusher_task" in moved
    assert "Client.stats" not in moved
    assert "PushSubscription._sub._jsi._fcr" in moved
