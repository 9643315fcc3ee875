"""A KV-event connection that goes half-open (the server's side vanished without a FIN,
as after a load balancer's or a node's failover) is noticed by the ZMTP heartbeat and
made again; without it the collector would wait on it, silent, for ever."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import zmq
import zmq.asyncio

from gie_cli.devstack.ports import free_port
from gie_metrics_collector.kv.supervisor import kv_context

pytestmark = pytest.mark.integration


class FreezingProxy:
    """A TCP relay on 127.0.0.1; :meth:`freeze` makes the connections open so far carry
    nothing more, either way, while staying open. Later connections relay normally."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.frozen: set[int] = set()
        self.connections = 0
        self._writers: list[asyncio.StreamWriter] = []

    async def _pump(
        self, number: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                if number not in self.frozen:
                    writer.write(data)
                    await writer.drain()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._writers += [writer, up_writer]
        await asyncio.gather(
            self._pump(number, reader, up_writer), self._pump(number, up_reader, writer)
        )

    def freeze(self) -> None:
        self.frozen.update(range(1, self.connections + 1))

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[int]:
        server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            yield port
        finally:
            server.close()
            for writer in self._writers:
                writer.close()


async def receives(sub: zmq.asyncio.Socket, pub: zmq.asyncio.Socket, *, within_s: float) -> bool:
    """Whether ``sub`` gets one of the messages ``pub`` sends every 50 ms for ``within_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while loop.time() < deadline:
        await pub.send_multipart([b"kv", b"batch"])
        if await sub.poll(50):
            await sub.recv_multipart()
            return True
    return False


@pytest.mark.parametrize("heartbeat_s", [0.2, 0.0], ids=["heartbeat", "none"])
async def test_a_half_open_connection_is_dropped_and_made_again(heartbeat_s: float) -> None:
    server = zmq.asyncio.Context()
    ctx = kv_context(max_message_bytes=1 << 20, heartbeat_s=heartbeat_s)
    pub = server.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    upstream = free_port()
    pub.bind(f"tcp://127.0.0.1:{upstream}")
    proxy = FreezingProxy(upstream)
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    try:
        async with proxy.serving() as port:
            sub.connect(f"tcp://127.0.0.1:{port}")
            assert await receives(sub, pub, within_s=5.0)
            proxy.freeze()  # half-open: nothing passes, nothing closes
            recovered = await receives(sub, pub, within_s=3.0)
            if heartbeat_s:
                assert recovered and proxy.connections >= 2
            else:
                assert not recovered and proxy.connections == 1
    finally:
        sub.close(linger=0)
        pub.close(linger=0)
        ctx.term()
        server.term()
