"""Process lifecycle: run a service's main coroutine until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Awaitable, Callable, Iterable, Iterator

import structlog

ServiceMain = Callable[[asyncio.Event], Awaitable[None]]

_log = structlog.get_logger("gie.lifecycle")

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


async def cancel_and_wait(tasks: Iterable[asyncio.Task[None]], *, timeout_s: float = 5.0) -> None:
    """Cancel ``tasks`` (again, every 0.1 s, while any is running) and wait for them.

    On Python 3.11 ``asyncio.wait_for`` swallows a cancellation that arrives as the
    awaited operation completes, and the clients used here (redis-py, nats-py's requests,
    aiohttp) await under it: the task then goes on as if never cancelled, and a service
    waiting for it at shutdown would hang. Cancelling again lands on its next await.
    Exceptions of the tasks are logged, not raised; tasks still running after
    ``timeout_s`` are logged and left behind.
    """
    pending = {task for task in tasks if not task.done()}
    done = {task for task in tasks if task.done()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while pending and loop.time() < deadline:
        for task in pending:
            task.cancel()
        finished, pending = await asyncio.wait(pending, timeout=0.1)
        done |= finished
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            _log.error("task failed", task=task.get_name(), error=repr(task.exception()))
    for task in pending:
        _log.error("task did not stop", task=task.get_name())
