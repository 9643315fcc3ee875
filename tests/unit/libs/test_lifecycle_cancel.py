"""Stopping a service's tasks when one of them swallows a cancellation, as Python
3.11's ``asyncio.wait_for`` does when the cancellation arrives as what it awaits
completes (the NATS, Redis and HTTP clients all await under it)."""

from __future__ import annotations

import asyncio
import contextlib

from gie.lifecycle import cancel_and_wait


async def swallows_the_first_cancellation() -> None:
    with contextlib.suppress(asyncio.CancelledError):  # as wait_for does in that race
        await asyncio.sleep(30)
    await asyncio.sleep(30)


async def test_a_task_that_swallowed_a_cancellation_is_cancelled_again_and_stops() -> None:
    stubborn = asyncio.create_task(swallows_the_first_cancellation())
    plain = asyncio.create_task(asyncio.sleep(30))
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await cancel_and_wait([stubborn, plain], timeout_s=5.0)
    assert stubborn.cancelled() and plain.cancelled()
    assert loop.time() - started < 1.0


async def test_one_cancellation_would_leave_it_running() -> None:
    """What the services did before: cancel once, then wait."""
    stubborn = asyncio.create_task(swallows_the_first_cancellation())
    await asyncio.sleep(0)
    stubborn.cancel()
    done, _ = await asyncio.wait([stubborn], timeout=0.3)
    assert not done
    await cancel_and_wait([stubborn])
    assert stubborn.cancelled()
