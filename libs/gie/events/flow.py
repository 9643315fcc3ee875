"""Events about flow control: what became of requests queued by the flow-controller.

Every request admitted under flow control produces ``RequestQueued`` and then exactly
one outcome event (``RequestDispatched`` or ``RequestEvicted``), or a single
``RequestRejected`` when it was refused at admission. ``correlation_id`` carries the
request id. The flow-controller replica that made the change publishes the event, with
an event id derived from the request id and the kind, so a re-publication is dropped
by the stream's duplicate window.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from gie.events.base import Event


class RequestQueued(Event):
    """A request entered the queue of its flow on ``shard``."""

    TYPE: ClassVar[str] = "RequestQueued"

    request_id: str = Field(min_length=1)
    fairness_id: str = Field(min_length=1)
    priority: int
    shard: int = Field(ge=0)
    byte_size: int = Field(default=0, ge=0)
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    expires_at: datetime | None = None


class RequestDispatched(Event):
    """A queued request may proceed to scheduling; ``charge`` is what its flow's
    fairness counter was charged (the weighted token estimate)."""

    TYPE: ClassVar[str] = "RequestDispatched"

    request_id: str = Field(min_length=1)
    fairness_id: str = Field(min_length=1)
    priority: int
    shard: int = Field(ge=0)
    queued_s: float = Field(default=0.0, ge=0.0)
    charge: float = 0.0


class RequestRejected(Event):
    """A request was refused at admission because a capacity limit was reached.

    ``reason``: ``band-bytes``, ``band-requests``, ``pool-bytes`` or ``pool-requests``.
    """

    TYPE: ClassVar[str] = "RequestRejected"

    request_id: str = Field(min_length=1)
    fairness_id: str = Field(min_length=1)
    priority: int
    byte_size: int = Field(default=0, ge=0)
    reason: str = Field(min_length=1)


class RequestEvicted(Event):
    """A queued request left the queue without being dispatched.

    ``reason``: ``ttl`` (its TTL or deadline passed; outcome ``EvictedTTL``),
    ``displaced`` (room was made for higher-priority work; ``RejectedCapacity``) or
    ``cancelled`` (the caller went away; ``EvictedContextCancelled``).
    """

    TYPE: ClassVar[str] = "RequestEvicted"

    request_id: str = Field(min_length=1)
    fairness_id: str = Field(min_length=1)
    priority: int
    shard: int = Field(ge=0)
    queued_s: float = Field(default=0.0, ge=0.0)
    reason: str = Field(min_length=1)
    outcome: str = Field(min_length=1)
