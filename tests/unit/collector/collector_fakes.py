"""Hand-written fakes for the collector's unit tests: a clock and an outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gie.events import Event

START = datetime(2026, 1, 1, tzinfo=UTC)


class FakeClock:
    """Time moves only when a test says so."""

    def __init__(self) -> None:
        self.mono = 1000.0

    def monotonic(self) -> float:
        return self.mono

    def now(self) -> datetime:
        return START + timedelta(seconds=self.mono - 1000.0)

    def advance(self, seconds: float) -> None:
        self.mono += seconds


class RecordingOutbox:
    """Keeps what would have been published."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Event]] = []

    def submit(self, subject: str, event: Event) -> None:
        self.sent.append((subject, event))

    @property
    def events(self) -> list[Event]:
        return [event for _, event in self.sent]
