"""Replay requests over a real DEALER/ROUTER pair, in both reply framings."""

from __future__ import annotations

import asyncio

import pytest
import zmq
import zmq.asyncio

from gie.kvevents import END_OF_REPLAY, decode_seq, encode_seq
from gie_metrics_collector.kv.replay import fetch_replay


async def serve(router: zmq.asyncio.Socket, *, with_topic: bool, batches: int) -> int:
    """Answer one request like a server holding seqs 0..batches-1; the start asked."""
    identity, _empty, start = await router.recv_multipart()
    first = decode_seq(start)
    topic = [b"kv@pod@model"] if with_topic else []
    for seq in range(first, batches):
        await router.send_multipart([identity, b"", *topic, encode_seq(seq), b"payload-%d" % seq])
    await router.send_multipart([identity, b"", *topic, encode_seq(END_OF_REPLAY), b""])
    return first


@pytest.mark.parametrize("with_topic", [True, False], ids=["vllm-0.26", "older-or-sglang"])
async def test_both_framings_are_read(with_topic: bool) -> None:
    ctx = zmq.asyncio.Context()
    router = ctx.socket(zmq.ROUTER)
    router.bind("tcp://127.0.0.1:*")
    address = router.getsockopt(zmq.LAST_ENDPOINT).decode()  # type: ignore[union-attr]
    try:
        server = asyncio.create_task(serve(router, with_topic=with_topic, batches=5))
        got = await fetch_replay(ctx, address, 2, timeout_s=5.0)
        assert await server == 2
        assert got == [(2, b"payload-2"), (3, b"payload-3"), (4, b"payload-4")]
    finally:
        router.close(linger=0)
        ctx.term()


async def test_a_silent_server_times_out_with_what_arrived() -> None:
    ctx = zmq.asyncio.Context()
    router = ctx.socket(zmq.ROUTER)
    router.bind("tcp://127.0.0.1:*")
    address = router.getsockopt(zmq.LAST_ENDPOINT).decode()  # type: ignore[union-attr]
    try:
        assert await fetch_replay(ctx, address, 0, timeout_s=0.2) == []
    finally:
        router.close(linger=0)
        ctx.term()
