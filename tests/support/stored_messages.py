"""The raw messages a stream holds (subject, headers, payload), read with an
ordered consumer: for tests of what a publisher put on the wire."""

from __future__ import annotations

import asyncio

import nats
from nats.aio.msg import Msg


async def stored_messages(nats_url: str, stream: str, subject: str, count: int) -> list[Msg]:
    """The first ``count`` messages of ``stream`` on ``subject`` (waits up to 10 s)."""
    nc = await nats.connect(nats_url)
    try:
        got: list[Msg] = []
        done = asyncio.Event()

        async def on_msg(msg: Msg) -> None:
            got.append(msg)
            if len(got) >= count:
                done.set()

        sub = await nc.jetstream().subscribe(
            subject, stream=stream, cb=on_msg, ordered_consumer=True
        )
        await asyncio.wait_for(done.wait(), 10)
        await sub.unsubscribe()
        return got[:count]
    finally:
        await nc.close()
