"""Reading a connection's socket in bursts instead of on every arrival.

A process that follows a busy stream wakes up once per message that arrives
on its own: on a loaded machine each wake-up costs a context switch and cold
caches, far more than handling the message. A :class:`ReadGate` keeps the
socket's reading paused, so arriving messages wait in the kernel's socket
buffer, and opens it for one read when the process is awake anyway
(:meth:`ReadGate.poke`, e.g. for every request it serves) and at the latest
``max_delay_s`` after the last burst: many messages per wake-up, none held longer
than that, and no timed read while pokes come often enough anyway.
Before a decision that must see everything that has arrived, ``await
gate.settle()``: when bytes are waiting it reads them and lets the client
hand them to the subscriptions before returning.

Nothing is lost or reordered: the bytes stay in the socket until read, and the
client parses them exactly as it would have. Writes are not affected.
"""

from __future__ import annotations

import asyncio
import select
from collections.abc import Callable

TransportSource = Callable[[], asyncio.ReadTransport | None]

# Loop iterations from the last read of a burst until its messages have reached the
# subscription callbacks: the client's read loop parses them (1), the subscription
# task calls back (2), and one more for the order among tasks woken together.
HANDLING_ITERATIONS = 3

# Reads a settle waits for, at most, while bytes keep arriving: a stream busier than
# the loop (a message between any two iterations) never leaves the socket empty, and a
# settle waiting for that would never return. Each read takes up to 256 KiB, so
# what had arrived when the settle began has been read long before.
SETTLE_READS = 8


class ReadGate:
    """Opens a transport's reading for one loop iteration per :meth:`poke`.

    ``transport_of`` returns the connection's current transport (a reconnect
    replaces it), or None while there is none. MUST be used on the loop that
    owns the transport.
    """

    def __init__(self, transport_of: TransportSource, *, max_delay_s: float) -> None:
        if max_delay_s <= 0:
            raise ValueError("max_delay_s must be > 0")
        self._transport_of = transport_of
        self._max_delay_s = max_delay_s
        self._open = True
        # Set while reading is paused, or once a burst has read SETTLE_READS times
        # with bytes still arriving: what a settle waits for.
        self._settled = asyncio.Event()
        self._reads = 0  # reads of the current burst
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_burst = 0.0  # loop time of the last poke that opened the gate
        self.bursts = 0  # times the gate was opened (for metrics and tests)

    @property
    def running(self) -> bool:
        return self._loop is not None

    def start(self) -> None:
        """Pause reading now; from here on read only in bursts."""
        self._loop = asyncio.get_running_loop()
        self._close()
        self._arm(self._max_delay_s)

    def stop(self) -> None:
        """Back to reading on every arrival."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._loop = None
        transport = self._transport_of()
        if transport is not None and not transport.is_closing():
            transport.resume_reading()
        self._open = True

    def poke(self) -> None:
        """Let the next loop iteration read whatever has arrived."""
        loop = self._loop
        if loop is None or self._open:
            return
        transport = self._transport_of()
        if transport is None or transport.is_closing():
            return
        transport.resume_reading()
        self._open = True
        self._settled.clear()
        self._reads = 0
        self.bursts += 1
        self._last_burst = loop.time()
        # Close at the start of the iteration after next: closing removes the reader
        # and cancels a read its select() already queued, so closing in the next
        # iteration (which runs before that read) would read nothing.
        loop.call_soon(loop.call_soon, self._close)

    async def settle(self) -> None:
        """Return once whatever had arrived when called has been handled."""
        if self._loop is None:
            return
        if not self._open:
            transport = self._transport_of()
            if transport is None or transport.is_closing() or not _has_bytes_waiting(transport):
                return  # nothing to read (or no connection: the client reconnects)
            self.poke()
        await self._settled.wait()  # reading until the socket is drained, or long enough
        for _ in range(HANDLING_ITERATIONS):
            await asyncio.sleep(0)

    def _close(self) -> None:
        loop, transport = self._loop, self._transport_of()
        if loop is None or transport is None or transport.is_closing():
            self._open = False
            self._settled.set()
            return
        if _has_bytes_waiting(transport):
            # More than one read's worth arrived (a read takes at most 256 KiB), or
            # more keeps coming: keep reading until drained, so a busy stream can never
            # outrun the gate; a settle waits for a bounded number of these reads.
            self._reads += 1
            if self._reads >= SETTLE_READS:
                self._settled.set()
            loop.call_soon(loop.call_soon, self._close)
            return
        self._open = False
        self._settled.set()
        transport.pause_reading()

    def _arm(self, delay_s: float) -> None:
        if self._loop is not None:
            self._timer = self._loop.call_later(delay_s, self._tick)

    def _tick(self) -> None:
        # A burst read everything that had arrived before it: nothing has waited
        # max_delay_s until max_delay_s after the last one.
        loop = self._loop
        assert loop is not None  # stop() cancels the timer
        wait = self._last_burst + self._max_delay_s - loop.time()
        if wait > 0:
            self._arm(wait)
            return
        self.poke()
        self._arm(self._max_delay_s)


def _has_bytes_waiting(transport: asyncio.BaseTransport) -> bool:
    sock = transport.get_extra_info("socket")
    if sock is None:
        return True  # cannot tell: assume so
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):  # closed under us: the client's reconnect takes over
        return False
    return bool(readable)
