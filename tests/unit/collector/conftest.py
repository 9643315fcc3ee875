"""Fixtures of the collector's unit tests (the fakes live in ``collector_fakes``)."""

from __future__ import annotations

import pytest
from collector_fakes import FakeClock, RecordingOutbox


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def outbox() -> RecordingOutbox:
    return RecordingOutbox()
