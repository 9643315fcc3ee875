"""The kernel's one clock: the real one, and the one tests move by hand."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from gie.clock import Clock, ManualClock, SystemClock


def test_the_manual_clock_moves_both_time_lines_together() -> None:
    clock = ManualClock(1_800_000_000_000, monotonic=10.0)
    assert clock.now() == datetime.fromtimestamp(1_800_000_000, UTC)
    clock.advance(0.6)
    assert clock.monotonic() == pytest.approx(10.6)
    assert clock.now_ms() == 1_800_000_000_600
    assert clock.now() == datetime.fromtimestamp(1_800_000_000, UTC) + timedelta(seconds=0.6)


def test_the_manual_clock_never_goes_back() -> None:
    clock = ManualClock()
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance(-1.0)
    assert clock.monotonic() == 0.0


async def test_a_manual_sleep_advances_at_once_and_lets_other_tasks_run() -> None:
    clock, ran = ManualClock(), []

    async def other() -> None:
        ran.append(clock.monotonic())

    task = asyncio.create_task(other())
    await clock.sleep(5.0)
    await clock.sleep(-1.0)  # a negative wait does not wait, nor go back
    assert clock.monotonic() == 5.0
    assert ran == [5.0]
    await task


async def test_the_system_clock_reads_real_time() -> None:
    clock: Clock = SystemClock()
    before_ms, before = clock.now_ms(), clock.monotonic()
    await clock.sleep(0.01)
    assert clock.monotonic() - before >= 0.009
    now = clock.now()
    assert now.tzinfo is UTC
    assert abs(now.timestamp() * 1000 - before_ms) < 60_000
