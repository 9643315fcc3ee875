"""Running the replica's long-lived tasks, and stopping them reliably.

:class:`Supervised` runs one loop (notices, outcome polling, the shard supervisor, ...)
and starts it again, with backoff, when it fails; while it is down its ``problem`` says
why, and the readiness probe reports it under ``task:<name>``.

Every loop here talks to Redis, whose client writes under ``asyncio.wait_for``: stopping
one means cancelling it again until it is done (:func:`gie.lifecycle.cancel_and_wait`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

_log = structlog.get_logger("gie.flow_controller")


def _ignore(name: str) -> None:
    pass


class Supervised:
    """One loop that should run as long as the replica does.

    The loop is not expected to end: when it raises (or returns, unless
    ``done_on_return``: then returning ends :meth:`run`), the failure is logged
    with its traceback, ``on_restart(name)`` is called, and the loop is started again
    after ``backoff_s``, doubling up to ``max_backoff_s`` while it keeps failing (a run
    that lasted ``max_backoff_s`` starts a new streak). ``problem`` is None while the loop
    runs, else why it is down. Cancelling the task running :meth:`run` stops the loop
    for good. Runs on the service's event loop.
    """

    def __init__(
        self,
        name: str,
        loop: Callable[[], Awaitable[None]],
        *,
        on_restart: Callable[[str], None] = _ignore,
        backoff_s: float = 0.1,
        max_backoff_s: float = 5.0,
        done_on_return: bool = False,
    ) -> None:
        self.name = name
        self._loop = loop
        self._on_restart = on_restart
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._done_on_return = done_on_return
        self.problem: str | None = None

    async def run(self) -> None:
        clock = asyncio.get_running_loop()
        delay = self._backoff_s
        while True:
            started = clock.time()
            try:
                await self._loop()
            except Exception as exc:  # whatever ended it: it is restarted, not lost
                failure = repr(exc)
                error: Exception | None = exc
            else:
                if self._done_on_return:
                    return
                failure, error = "returned", None
            if clock.time() - started >= self._max_backoff_s:
                delay = self._backoff_s  # it ran a while: a new failure streak
            self.problem = f"task ended ({failure}); restarting in {delay:g}s"
            _log.error(
                "task ended; restarting",
                task=self.name,
                error=failure,
                restart_in_s=delay,
                exc_info=error,
            )
            self._on_restart(self.name)
            await asyncio.sleep(delay)
            self.problem = None
            delay = min(delay * 2, self._max_backoff_s)
