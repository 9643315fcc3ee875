"""Events about the endpoints (model-server pods and ports) of a pool."""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gie.events.base import Event

_ADDRESS = re.compile(r"^(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.\-]+):(?P<port>\d{1,5})$")


def validate_address(value: str) -> str:
    """Check an ``ip:port`` (or ``[v6]:port``) endpoint address and return it."""
    match = _ADDRESS.match(value)
    if match is None or not 0 < int(match["port"]) < 65536:
        raise ValueError(f"endpoint address must be ip:port, got {value!r}")
    return value


class Endpoint(BaseModel):
    """One routable endpoint: an address plus what is known about it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: str
    name: str = ""
    labels: dict[str, str] = Field(default_factory=dict)

    _check_address = field_validator("address")(validate_address)


class EndpointUpserted(Event):
    """An endpoint joined the pool, or what is known about it changed."""

    TYPE: ClassVar[str] = "EndpointUpserted"

    endpoint: Endpoint


class EndpointRemoved(Event):
    """An endpoint left the pool."""

    TYPE: ClassVar[str] = "EndpointRemoved"

    address: str

    _check_address = field_validator("address")(validate_address)
