"""EventReading: decisions settle the stream, at most once per settle interval."""

from __future__ import annotations

from typing import cast

import pytest

from gie.bus.read_gate import ReadGate
from gie_picker.projections.event_reading import EventReading


class CountingGate:
    def __init__(self) -> None:
        self.settled = 0

    async def settle(self) -> None:
        self.settled += 1


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_before_start_nothing_is_settled() -> None:
    reading = EventReading(min_interval_s=0.05)
    await reading.settle()
    assert reading.settles == 0


async def test_without_an_interval_every_decision_settles() -> None:
    gate, reading = CountingGate(), EventReading()
    reading.start(cast(ReadGate, gate))
    for _ in range(3):
        await reading.settle()
    assert gate.settled == 3


async def test_decisions_within_the_interval_do_not_settle_again() -> None:
    gate, clock = CountingGate(), Clock()
    reading = EventReading(min_interval_s=0.05, clock=clock)
    reading.start(cast(ReadGate, gate))
    await reading.settle()  # the first decision reads what has arrived
    clock.now += 0.03
    await reading.settle()  # 30 ms later: still within the interval
    assert gate.settled == 1
    clock.now += 0.03
    await reading.settle()  # 60 ms after the last read: reads again
    assert gate.settled == 2


def test_a_negative_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="min_interval_s"):
        EventReading(min_interval_s=-1)
