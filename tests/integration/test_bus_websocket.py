"""A service's bus loads without aiohttp, and still reaches NATS over WebSocket.

nats-py imports aiohttp for its WebSocket transport; gie loads nats-py with aiohttp
imported at its first use instead (``gie.bus.nats_loading``), which saves every
service a sixth of a second of start-up CPU. A ``ws://`` URL must work as before.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gie_cli.devstack.binaries import find_nats_server
from gie_cli.devstack.ports import free_port
from tests.support.servers import _stop, _wait, jetstream_ready

pytestmark = pytest.mark.integration

# Run in a fresh interpreter: this test process may have imported aiohttp already.
SCRIPT = """
import asyncio, sys
from gie.bus import EVENTS, Deliver, NatsEventBus
from gie.events.subjects import routing_subject
from tests.support.routing_events import routed

loaded_with_the_bus = "aiohttp" in sys.modules

async def main() -> None:
    pool = "test/websocket"
    seen = asyncio.Event()
    async with NatsEventBus(sys.argv[1], name="ws-test") as bus:
        await bus.ensure_streams()
        subject = routing_subject(pool, "routed")
        await bus.publish(subject, routed(pool, 1))
        following = await bus.follow(
            EVENTS, subject, lambda event: seen.set(), deliver=Deliver.ALL
        )
        await asyncio.wait_for(seen.wait(), 10)
        await following.stop()
    print(loaded_with_the_bus, "aiohttp" in sys.modules)

asyncio.run(main())
"""


@pytest.fixture
def websocket_nats() -> Iterator[str]:
    """nats-server with JetStream and a plain WebSocket listener; yields its ws:// URL."""
    port, monitor = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="gie-nats-ws-") as store:
        config = Path(store) / "nats.conf"
        config.write_text(
            f'listen: "127.0.0.1:{free_port()}"\n'
            f'http: "127.0.0.1:{monitor}"\n'
            f'jetstream {{ store_dir: "{store}" }}\n'
            f'websocket {{ listen: "127.0.0.1:{port}", no_tls: true }}\n'
        )
        proc = subprocess.Popen(
            [str(find_nats_server()), "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        try:
            _wait(jetstream_ready(monitor), "nats-server", proc)
            yield f"ws://127.0.0.1:{port}"
        finally:
            _stop(proc)


def test_the_bus_loads_without_aiohttp_and_follows_a_stream_over_websocket(
    websocket_nats: str,
) -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, websocket_nats],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=root,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # Not loaded with the bus; loaded once the WebSocket connection needed it.
    assert done.stdout.splitlines()[-1].split() == ["False", "True"]
