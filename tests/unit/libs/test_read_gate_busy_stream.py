"""A stream busier than the event loop (a message arrives between any two of its
iterations, as with many endpoints' metrics) never leaves the socket empty: a settle
before a routing decision must still return, having read what had arrived."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

from gie.bus.read_gate import ReadGate

MESSAGE = b"x" * 200


class Counting(asyncio.Protocol):
    def __init__(self) -> None:
        self.received = 0

    def data_received(self, data: bytes) -> None:
        self.received += len(data)


async def test_a_settle_returns_while_messages_keep_arriving() -> None:
    ours, theirs = socket.socketpair()
    loop = asyncio.get_running_loop()
    protocol = Counting()
    transport, _ = await loop.create_connection(lambda: protocol, sock=ours)
    writing = threading.Event()
    writing.set()
    sent = 0

    def writer() -> None:
        nonlocal sent
        while writing.is_set():
            theirs.send(MESSAGE)
            sent += len(MESSAGE)
            time.sleep(0.0002)

    async def busy() -> None:  # each loop iteration takes a millisecond
        while True:
            time.sleep(0.001)  # noqa: ASYNC251 -- the point: a slow iteration
            await asyncio.sleep(0)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    spinner = asyncio.create_task(busy())
    gate = ReadGate(lambda: transport, max_delay_s=30.0)
    gate.start()
    try:
        for _ in range(20):
            await asyncio.sleep(0.01)
            before = sent
            await asyncio.wait_for(gate.settle(), 2.0)
            assert protocol.received >= before  # what had been sent was read
    finally:
        writing.clear()
        thread.join(5)
        spinner.cancel()
        gate.stop()
        transport.close()
        theirs.close()
