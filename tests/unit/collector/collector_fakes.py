"""Hand-written fakes for the collector's unit tests: a clock and an outbox."""

from __future__ import annotations

from datetime import UTC, datetime

from gie.clock import ManualClock
from gie.events import Event

START = datetime(2026, 1, 1, tzinfo=UTC)


class FakeClock(ManualClock):
    """Time moves only when a test says so: the kernel's manual clock, at START."""

    def __init__(self) -> None:
        super().__init__(int(START.timestamp()) * 1000, monotonic=1000.0)


class RecordingOutbox:
    """Keeps what would have been published."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Event]] = []

    def submit(self, subject: str, event: Event) -> None:
        self.sent.append((subject, event))

    @property
    def events(self) -> list[Event]:
        return [event for _, event in self.sent]
