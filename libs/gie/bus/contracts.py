"""What services need from the event bus, as small protocols.

Rules every implementation follows:

* Every message carries CloudEvents headers (:mod:`gie.events.cloudevents`)
  where the bus has headers; ``ce-id`` equals the message's ``Nats-Msg-Id``.
* ``publish`` returns once the bus has stored the event (or raises
  :class:`~gie.bus.errors.BusPublishError`); with ``confirm=False`` once the
  event is handed to the connection. With ``msg_id`` set, publishing the
  same id again within the duplicate window stores it once; confirmed
  publishes use the event id when no ``msg_id`` is given (so a retry is
  stored once), unconfirmed ones are never retried and need none.
* ``follow`` delivers events of one stream whose subject matches a filter, in
  stream order, to ``handler``, one at a time; the events of a batch message in
  the batch's order. Payloads (or events of a batch) that are not valid events
  are logged and counted, never delivered and never fatal; an exception raised
  by the handler is logged and counted and delivery goes on.
* :class:`Following.caught_up` is set once every event stored when ``follow``
  was called has been handed to the handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from gie.bus.streams import Deliver, StreamSpec
from gie.events import Event

EventHandler = Callable[[Event], object]  # an awaitable result is awaited


class Following(Protocol):
    """A running subscription."""

    @property
    def caught_up(self) -> asyncio.Event: ...

    @property
    def position(self) -> int:
        """Stream sequence of the last event handed to the handler (0: none yet)."""

    async def stop(self) -> None:
        """Stop delivery. Safe to call twice."""


class EventPublisher(Protocol):
    async def publish(
        self,
        subject: str,
        event: Event,
        *,
        msg_id: str | None = None,
        confirm: bool = True,
        traceparent: str | None = None,
    ) -> None:
        """``confirm=False`` hands the event to the bus without waiting for its
        acknowledgement (cheaper; a lost connection may lose it). ``traceparent``
        (a W3C trace context) goes with the message when the bus carries headers."""


@runtime_checkable
class NowaitPublisher(Protocol):
    def publish_nowait(self, subject: str, event: Event, *, traceparent: str | None = None) -> bool:
        """``publish(confirm=False)`` done synchronously; False (nothing sent) when
        the bus cannot do it right now, and the caller uses ``publish``."""

    def publish_batch_nowait(self, subject: str, events: Sequence[Event]) -> bool:
        """``events`` as one batch message (see :meth:`EventCodec.encode_batch`),
        like ``publish_nowait``; False (nothing sent) when it cannot be done now,
        for instance when the batch is larger than one message may be."""


class EventBus(EventPublisher, Protocol):
    async def follow(
        self,
        stream: StreamSpec,
        filter_subject: str,
        handler: EventHandler,
        *,
        deliver: Deliver,
        since: datetime | None = None,
        start_seq: int | None = None,
    ) -> Following:
        """``since`` is required with ``Deliver.SINCE`` (the store time to start at),
        ``start_seq`` with ``Deliver.FROM_SEQUENCE``."""
