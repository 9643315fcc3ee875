"""Publishing a simulated server's cache changes as vLLM KV events over ZMQ.

* A PUB socket sends each engine step's batch as ``[topic, seq, payload]``; ``seq`` is
  8 bytes big-endian, counting batches from 0 for this server's lifetime (a restart
  starts again at 0, as vLLM does).
* A ROUTER socket (optional) replays the last ``kv_events_buffer`` batches: a DEALER
  sends ``[b"", start_seq]`` and gets every kept batch from ``start_seq`` on as
  ``[b"", topic, seq, payload]``, then ``[b"", topic, 0xFF x 8, b""]``.
* :class:`KvEventsControl` drops or reorders the next live batches on command
  (``POST /sim/kv-events``) to test consumers' gap handling. Dropped batches stay in the
  replay buffer unless ``forget_dropped`` is set.

Sending never blocks the engine: PUB drops messages at its high-water mark, as vLLM's
does. Runs on the server's event loop.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time

import zmq
import zmq.asyncio
from pydantic import BaseModel, ConfigDict, Field

from gie.kvevents import END_OF_REPLAY, EngineEvent, decode_seq, encode_batch, encode_seq
from gie_sim.config import SimConfig

__all__ = ["KvEventsControl", "KvPublisher"]

_log = logging.getLogger(__name__)


class KvEventsControl(BaseModel):
    """What happens to the next live batches (counts go down as batches pass)."""

    model_config = ConfigDict(extra="forbid")

    drop_next: int = Field(default=0, ge=0, description="Live batches not sent.")
    forget_dropped: bool = Field(
        default=False, description="Dropped batches are left out of the replay buffer too."
    )
    reorder_next: int = Field(
        default=0, ge=0, description="Pairs of live batches sent second first."
    )


class KvPublisher:
    """The PUB and ROUTER sockets of one simulated server."""

    def __init__(self, config: SimConfig, *, host: str, offset: int = 0) -> None:
        self._config = config
        self._host = host
        self._offset = offset
        self._ctx = zmq.asyncio.Context()
        self._pub: zmq.asyncio.Socket | None = None
        self._router: zmq.asyncio.Socket | None = None
        self._replay_task: asyncio.Task[None] | None = None
        self._buffer: collections.deque[tuple[int, bytes]] = collections.deque(
            maxlen=config.kv_events_buffer
        )
        self._topic = config.kv_events_topic.encode()
        self._seq = 0
        self._held: tuple[bytes, bytes] | None = None
        self.control = KvEventsControl()
        self.address = ""
        self.replay_address = ""

    def _bind(self, kind: int, port: int) -> tuple[zmq.asyncio.Socket, str]:
        sock = self._ctx.socket(kind)
        sock.setsockopt(zmq.LINGER, 0)
        host = f"[{self._host}]" if ":" in self._host else self._host
        if port == 0:
            sock.bind(f"tcp://{host}:*")
        else:
            sock.bind(f"tcp://{host}:{port + self._offset}")
        endpoint = sock.getsockopt(zmq.LAST_ENDPOINT)
        assert isinstance(endpoint, bytes)
        return sock, endpoint.decode()

    def start(self) -> None:
        if self._config.kv_events_port >= 0:
            self._pub, self.address = self._bind(zmq.PUB, self._config.kv_events_port)
            self._pub.setsockopt(zmq.SNDHWM, 100_000)
        if self._config.kv_events_replay_port >= 0:
            self._router, self.replay_address = self._bind(
                zmq.ROUTER, self._config.kv_events_replay_port
            )
            self._replay_task = asyncio.get_running_loop().create_task(
                self._serve_replay(), name="gie-sim kv replay"
            )

    async def stop(self) -> None:
        task, self._replay_task = self._replay_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for sock in (self._pub, self._router):
            if sock is not None:
                sock.close(linger=0)
        self._pub = self._router = None
        self._ctx.term()

    # -- publishing -----------------------------------------------------------
    def publish(self, events: list[EngineEvent]) -> None:
        """Send one engine step's events as the next batch (the engine's sink)."""
        payload = encode_batch(events, ts=time.time(), encoding=self._config.kv_events_encoding)
        seq = encode_seq(self._seq)
        self._seq += 1
        control = self.control
        if control.drop_next > 0:
            control.drop_next -= 1
            if not control.forget_dropped:
                self._buffer.append((self._seq - 1, payload))
            return
        self._buffer.append((self._seq - 1, payload))
        if control.reorder_next > 0 and self._held is None:
            self._held = (seq, payload)
            return
        self._send(seq, payload)
        if self._held is not None:
            control.reorder_next -= 1
            held, self._held = self._held, None
            self._send(*held)

    @property
    def next_seq(self) -> int:
        return self._seq

    def _send(self, seq: bytes, payload: bytes) -> None:
        if self._pub is None:
            return
        with contextlib.suppress(zmq.Again):
            self._pub.send_multipart([self._topic, seq, payload], flags=zmq.NOBLOCK)

    # -- replay ---------------------------------------------------------------
    async def _serve_replay(self) -> None:
        router = self._router
        assert router is not None
        end = encode_seq(END_OF_REPLAY)
        while True:
            frames = await router.recv_multipart()
            if len(frames) < 3:
                continue
            identity, start_frame = frames[0], frames[-1]
            try:
                start = decode_seq(start_frame)
            except ValueError:
                _log.warning(
                    "kv replay request with a bad start frame (%d bytes)", len(start_frame)
                )
                continue
            for seq, payload in list(self._buffer):
                if seq >= start:
                    await router.send_multipart(
                        [identity, b"", self._topic, encode_seq(seq), payload]
                    )
            await router.send_multipart([identity, b"", self._topic, end, b""])
