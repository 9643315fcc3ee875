"""Events about InferenceObjectives (request priority classes)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from gie.events.base import Event


class ObjectiveUpserted(Event):
    """An InferenceObjective exists with this priority (higher is more important).

    A negative priority marks its requests sheddable: rejected with 429 while
    the pool is saturated.
    """

    TYPE: ClassVar[str] = "ObjectiveUpserted"

    name: str = Field(min_length=1)
    priority: int = 0


class ObjectiveRemoved(Event):
    """An InferenceObjective was deleted; its requests fall back to priority 0."""

    TYPE: ClassVar[str] = "ObjectiveRemoved"

    name: str = Field(min_length=1)
