"""Stopping tasks reliably.

redis-py writes under ``asyncio.wait_for`` when a socket timeout is set, and on Python
3.11 ``wait_for`` can swallow a cancellation that arrives as the write completes: the
task goes on as if never cancelled. Every loop here talks to Redis, so stopping one means
cancelling it again until it is done (the next cancellation lands on another await).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import structlog

_log = structlog.get_logger("gie.flow_controller")


async def cancel_and_wait(tasks: Iterable[asyncio.Task[None]], *, timeout_s: float = 5.0) -> None:
    """Cancel ``tasks`` (again, every 0.1 s, while any is running) and wait for them.

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
