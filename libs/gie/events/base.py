"""The event envelope shared by every gie event."""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticUndefined


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

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """The event of ``values`` built without validating them.

        For the hot path only, where a service publishes a fact it builds from state
        it has already validated (a routing decision: addresses from the pool view,
        counts it computed). The caller MUST pass values that satisfy every field's
        type and constraints: an invalid value is not caught here but by every
        consumer, which refuses the event. Field names are checked (an unknown or
        missing one is a TypeError); defaults and the envelope are filled as the
        validating constructor fills them.
        """
        template, required = _trusted_layout(cls)
        state = template.copy()  # every field, in the model's order (as serialized)
        state["event_id"] = new_event_id()
        state["type"] = cls.TYPE
        state["schema_version"] = cls.SCHEMA_VERSION
        state["occurred_at"] = utc_now()
        state.update(values)
        if len(state) != len(template):
            unknown = sorted(values.keys() - template.keys())
            raise TypeError(f"{cls.__name__} has no field(s) {', '.join(unknown)}")
        if not required <= values.keys():
            raise TypeError(f"{cls.__name__} needs {', '.join(sorted(required - values.keys()))}")
        event = cls.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        object.__setattr__(event, "__pydantic_fields_set__", set(values))
        object.__setattr__(event, "__pydantic_extra__", None)
        object.__setattr__(event, "__pydantic_private__", None)
        return event

    @model_validator(mode="after")
    def _fill_type_and_version(self) -> Self:
        # The discriminator and version come from the class; a payload that
        # names another type or version (even an empty or zero one) is not this event.
        given = self.__pydantic_fields_set__
        if "type" not in given:
            object.__setattr__(self, "type", self.TYPE)
        elif self.type != self.TYPE:
            raise ValueError(f"type is {self.type!r}, expected {self.TYPE!r}")
        if "schema_version" not in given:
            object.__setattr__(self, "schema_version", self.SCHEMA_VERSION)
        elif self.schema_version != self.SCHEMA_VERSION:
            raise ValueError(
                f"schema_version is {self.schema_version}, expected {self.SCHEMA_VERSION}"
            )
        return self


_LAYOUTS: dict[type[Event], tuple[dict[str, Any], frozenset[str]]] = {}


def _trusted_layout(cls: type[Event]) -> tuple[dict[str, Any], frozenset[str]]:
    """Every field of a model in order with its plain default (None for a required
    field or one the envelope fills per event), and the required fields."""
    layout = _LAYOUTS.get(cls)
    if layout is None:
        template: dict[str, Any] = {}
        required: set[str] = set()
        for name, info in cls.model_fields.items():
            template[name] = None if info.default is PydanticUndefined else info.default
            if info.is_required():
                required.add(name)
        layout = _LAYOUTS[cls] = (template, frozenset(required))
    return layout
