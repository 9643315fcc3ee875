"""Events about the endpoints (model-server pods and ports) of a pool."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from gie.events.address import Address
from gie.events.base import Event


class Endpoint(BaseModel):
    """One routable endpoint: an address plus what is known about it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: Address
    name: str = ""
    labels: dict[str, str] = Field(default_factory=dict)


class EndpointUpserted(Event):
    """An endpoint joined the pool, or what is known about it changed."""

    TYPE: ClassVar[str] = "EndpointUpserted"

    endpoint: Endpoint


class EndpointRemoved(Event):
    """An endpoint left the pool."""

    TYPE: ClassVar[str] = "EndpointRemoved"

    address: Address
