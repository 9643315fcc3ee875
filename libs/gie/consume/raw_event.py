"""What a consumer gets for an event it has no model for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RawEvent:
    """An event this build cannot turn into a model: its ``type`` is unknown (a type
    added by a later release), its ``schema_version`` is newer than known, or it is
    invalid. ``data`` is its JSON object as published; ``reason`` says which case."""

    type: str
    event_id: str | None
    schema_version: int | None
    data: dict[str, Any] = field(repr=False)
    reason: str
