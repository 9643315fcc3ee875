"""Process lifecycle: run a service's main coroutine until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Awaitable, Callable, Iterator

ServiceMain = Callable[[asyncio.Event], Awaitable[None]]

# Young-generation collections every 10,000 net container allocations instead of
# CPython's 700, and full collections 10x rarer: a request allocates hundreds of
# short-lived containers (protobuf wrappers, events, NATS messages), and with the
# defaults the collector ran every few requests and walked the whole heap often.
# Cyclic garbage waits a little longer; everything else is freed by refcounting.
GC_THRESHOLDS = (10_000, 20, 100)


def tune_gc() -> None:
    """Apply :data:`GC_THRESHOLDS` (each service process calls it at start)."""
    gc.set_threshold(*GC_THRESHOLDS)


def freeze_heap() -> None:
    """Move everything allocated so far out of the collector's sight.

    Call once start-up is over (imports, configuration, replayed views): later
    full collections then walk only what was allocated since, not the
    hundreds of thousands of long-lived objects of the libraries and the view.
    Frozen objects are still freed by reference counting.
    """
    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block; reference counting still frees
    everything not held in a cycle, and collection resumes on leaving.

    For a start-up replay: it allocates hundreds of thousands of objects that either
    live on (the folded views) or die by reference counting (the decoded events), and
    the collector would walk the survivors again and again for no garbage (about a
    tenth of a second of a picker's 100,000-event replay). Follow it with
    :func:`freeze_heap`, which collects once.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_service(main: ServiceMain) -> int:
    """Run ``main(stop)`` on a fresh loop; the first SIGTERM/SIGINT sets ``stop``.

    ``main`` is expected to return once ``stop`` is set (after draining). A
    second signal cancels it. Returns the process exit code.
    """

    async def runner() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        task = asyncio.current_task()

        def on_signal() -> None:
            if stop.is_set() and task is not None:
                task.cancel()
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal)
        await main(stop)

    tune_gc()
    try:
        asyncio.run(runner())
    except asyncio.CancelledError:
        return 1
    return 0


async def wait_either(first: asyncio.Event, second: asyncio.Event) -> asyncio.Event:
    """Wait until either event is set; return the one that is (``first`` if both)."""
    waiters = [asyncio.create_task(first.wait()), asyncio.create_task(second.wait())]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
    return first if first.is_set() else second
