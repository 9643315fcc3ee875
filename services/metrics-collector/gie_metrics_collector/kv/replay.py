"""Asking a model server's replay socket for the batches from a sequence number on."""

from __future__ import annotations

import asyncio
import time

import zmq
import zmq.asyncio

from gie.kvevents import END_OF_REPLAY, KvWireError, decode_seq, encode_seq

__all__ = ["fetch_replay"]


def _split(frames: list[bytes]) -> tuple[int, bytes]:
    """``[b"", topic, seq, payload]`` (vLLM >= 0.26) or ``[b"", seq, payload]`` (older
    vLLM, SGLang) -> ``(seq, payload)``."""
    if frames and frames[0] == b"":
        frames = frames[1:]
    if len(frames) == 3:
        return decode_seq(frames[1]), frames[2]
    if len(frames) == 2:
        return decode_seq(frames[0]), frames[1]
    raise KvWireError(f"replay reply has {len(frames)} frames")


async def fetch_replay(
    ctx: zmq.asyncio.Context, address: str, start: int, *, timeout_s: float
) -> list[tuple[int, bytes]]:
    """The ``(seq, payload)`` batches the server still holds from ``start`` on, in order,
    until its end marker or ``timeout_s`` (then what arrived so far)."""
    dealer = ctx.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    out: list[tuple[int, bytes]] = []
    deadline = time.monotonic() + timeout_s
    try:
        dealer.connect(address)
        await dealer.send_multipart([b"", encode_seq(start)])
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                frames = await asyncio.wait_for(dealer.recv_multipart(), left)
            except TimeoutError:
                break
            seq, payload = _split(frames)
            if seq == END_OF_REPLAY:
                break
            out.append((seq, payload))
    finally:
        dealer.close(linger=0)
    return out
