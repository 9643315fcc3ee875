"""A fake model server: chained BlockStored batches at a fixed rate, evicting the oldest."""

from __future__ import annotations

import asyncio
import collections
import time

import zmq
import zmq.asyncio

from gie.kvevents import BlockRemoved, BlockStored, EngineEvent, encode_batch, encode_seq

__all__ = ["FakeServer"]


class FakeServer:
    """PUB socket sending ``blocks_per_s`` blocks in batches of ``blocks_per_batch``;
    once ``capacity`` blocks are held each batch also removes as many of the oldest."""

    def __init__(
        self, *, blocks_per_s: int, blocks_per_batch: int, capacity: int, block_size: int = 16
    ) -> None:
        self.blocks_per_s, self.blocks_per_batch = blocks_per_s, blocks_per_batch
        self.capacity, self.block_size = capacity, block_size
        self.sent_at: dict[int, float] = {}
        self._ctx = zmq.asyncio.Context()
        self._pub = self._ctx.socket(zmq.PUB)
        self._pub.setsockopt(zmq.LINGER, 0)
        self._pub.setsockopt(zmq.SNDHWM, 1_000_000)
        self._pub.bind("tcp://127.0.0.1:*")
        endpoint = self._pub.getsockopt(zmq.LAST_ENDPOINT)
        assert isinstance(endpoint, bytes)
        self.address = endpoint.decode()
        self._held: collections.deque[int] = collections.deque()
        self._next_token = 0
        self._next_hash = 1
        self._seq = 0

    def _batch(self) -> list[EngineEvent]:
        count = self.blocks_per_batch
        hashes = list(range(self._next_hash, self._next_hash + count))
        parent = self._held[-1] if self._held else None
        self._next_hash += count
        start = self._next_token  # distinct ids, cheap to make (the benchmark's own cost)
        self._next_token += count * self.block_size
        tokens = tuple(range(start, self._next_token))
        events: list[EngineEvent] = [BlockStored(tuple(hashes), parent, tokens, self.block_size)]
        self._held.extend(hashes)
        while len(self._held) > self.capacity:
            events.append(BlockRemoved((self._held.popleft(),)))
        return events

    async def run(self, seconds: float) -> None:
        period = self.blocks_per_batch / self.blocks_per_s
        start = time.monotonic()
        while (now := time.monotonic()) < start + seconds:
            due = start + self._seq * period
            if due > now:
                await asyncio.sleep(due - now)
            payload = encode_batch(self._batch(), ts=time.time())
            self.sent_at[self._seq] = time.monotonic()
            await self._pub.send_multipart([b"", encode_seq(self._seq), payload])
            self._seq += 1

    def close(self) -> None:
        self._pub.close(linger=0)
        self._ctx.term()
