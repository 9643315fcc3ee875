"""The events of one NATS message, for consumers: typed where possible, raw otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from gie.consume.raw_event import RawEvent
from gie.events import Event, EventCodec, EventDecodeError


@dataclass(frozen=True, slots=True)
class Item:
    """One event of a message: its JSON object as published and what it decodes to."""

    raw: dict[str, Any]
    event: Event | RawEvent

    @property
    def type(self) -> str:
        return self.event.type

    @property
    def event_id(self) -> str | None:
        return self.event.event_id


def decode_message(codec: EventCodec, payload: bytes) -> list[Item]:
    """Every event of ``payload`` (one event or a batch), in order; an item of a batch
    that is not a JSON object is a :class:`RawEvent` saying so (the others are kept).
    EventDecodeError when the payload is neither a JSON object nor an array."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise EventDecodeError(f"event payload is not JSON: {exc}") from exc
    if isinstance(data, dict):
        return [Item(data, _decode(codec, data))]
    if not isinstance(data, list):
        raise EventDecodeError("event payload is neither a JSON object nor an array")
    return [
        Item(raw, _decode(codec, raw))
        if isinstance(raw, dict)
        else Item({}, _not_an_object(position, len(data)))
        for position, raw in enumerate(data, 1)
    ]


def _not_an_object(position: int, count: int) -> RawEvent:
    return RawEvent(
        type="",
        event_id=None,
        schema_version=None,
        data={},
        reason=f"event {position} of {count} is not a JSON object",
    )


def _decode(codec: EventCodec, raw: dict[str, Any]) -> Event | RawEvent:
    try:
        return codec.decode_object(raw)
    except EventDecodeError as exc:
        type_name = raw.get("type")
        event_id = raw.get("event_id")
        version = raw.get("schema_version")
        return RawEvent(
            type=type_name if isinstance(type_name, str) else "",
            event_id=event_id if isinstance(event_id, str) else None,
            schema_version=version if isinstance(version, int) else None,
            data=raw,
            reason=str(exc),
        )
