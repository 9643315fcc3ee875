"""Events about the pool's saturation."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from gie.events.base import Event


class PoolSaturationChanged(Event):
    """The pool became saturated (no endpoint has capacity) or stopped being so."""

    TYPE: ClassVar[str] = "PoolSaturationChanged"

    saturated: bool
    endpoints_with_capacity: int = Field(ge=0)
    endpoints_total: int = Field(ge=0)
    reason: str = ""
