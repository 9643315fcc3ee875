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
    """Every event of ``payload`` (one event or a batch), in order; EventDecodeError
    when the payload is not a JSON object or array of objects."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise EventDecodeError(f"event payload is not JSON: {exc}") from exc
    objects = data if isinstance(data, list) else [data]
    if not all(isinstance(item, dict) for item in objects):
        raise EventDecodeError("event payload is neither a JSON object nor an array of objects")
    return [Item(raw, _decode(codec, raw)) for raw in objects]


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
