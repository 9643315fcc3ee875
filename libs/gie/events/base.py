"""The event envelope shared by every gie event."""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _EventIds:
    """Event ids: a random 64-bit prefix per process and a counter, as 32 hex digits
    (the shape of a UUID's hex). As unique as random UUIDs across processes, and no
    system call per event; a forked child draws a prefix of its own."""

    def __init__(self) -> None:
        self._reseed()
        os.register_at_fork(after_in_child=self._reseed)

    def _reseed(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):016x}"


_event_ids = _EventIds()


def new_event_id() -> str:
    """A fresh, globally unique event id (32 hex digits)."""
    return _event_ids.next()


def utc_now() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    """Envelope of every event: an immutable, past-tense fact about one pool.

    Subclasses set ``TYPE`` (the wire name, also the ``type`` field) and
    ``SCHEMA_VERSION``. Unknown fields are rejected so a typo never becomes a
    silently ignored fact.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str] = ""
    SCHEMA_VERSION: ClassVar[int] = 1

    event_id: str = Field(default_factory=new_event_id, min_length=1)
    type: str = ""
    schema_version: int = 0
    occurred_at: datetime = Field(default_factory=utc_now)
    source: str = Field(min_length=1)
    pool: str = Field(min_length=1)
    correlation_id: str | None = None

    @model_validator(mode="after")
    def _fill_type_and_version(self) -> Self:
        # The discriminator and version come from the class; a payload that
        # names another type or version is not this event.
        if not self.type:
            object.__setattr__(self, "type", self.TYPE)
        elif self.type != self.TYPE:
            raise ValueError(f"type is {self.type!r}, expected {self.TYPE!r}")
        if not self.schema_version:
            object.__setattr__(self, "schema_version", self.SCHEMA_VERSION)
        elif self.schema_version != self.SCHEMA_VERSION:
            raise ValueError(
                f"schema_version is {self.schema_version}, expected {self.SCHEMA_VERSION}"
            )
        return self
