"""Wire format of events: JSON, with a registry of types and upcasters.

Encoding is the pydantic JSON of the event (written by orjson for the flat
models whose pydantic JSON it reproduces byte for byte: gie.events.plain_json).
Decoding reads ``type`` and ``schema_version``, runs any upcasters registered
for older versions of that type, then validates into the current model.
Everything that can go wrong on decode raises :class:`EventDecodeError` naming
the problem.

A *batch* is one payload carrying several events: a JSON array of encoded
events, oldest first (``encode_batch``). ``decode_batch`` reads either form and
keeps every valid event of a batch in which some are not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError
from pydantic.config import ExtraValues

from gie.events.base import Event
from gie.events.batch_validator import BatchValidator
from gie.events.errors import EventDecodeError
from gie.events.plain_json import encode_plain, encode_plain_batch, plain_json
from gie.json_depth import too_deep

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class DecodedBatch:
    """The events of one payload in order, and what was wrong with the others."""

    events: list[Event]
    errors: list[EventDecodeError]


class EventCodec:
    """Encodes events and decodes payloads of the registered event types."""

    def __init__(
        self, types: Iterable[type[Event]] = (), *, extra: ExtraValues | None = None
    ) -> None:
        """``extra``: what validation does with fields the models do not declare, at
        every depth (None: each model's own setting; gie's models forbid them)."""
        self._extra = extra
        self._types: dict[str, type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self._batches: BatchValidator | None = None  # built on first use
        for event_type in types:
            self.register(event_type)

    def register(self, event_type: type[Event]) -> None:
        if not event_type.TYPE:
            raise ValueError(f"{event_type.__name__} has no TYPE")
        if event_type.TYPE in self._types:
            raise ValueError(f"event type {event_type.TYPE!r} is already registered")
        self._types[event_type.TYPE] = event_type
        self._batches = None

    def register_upcaster(self, type_name: str, from_version: int, upcaster: Upcaster) -> None:
        """Register a function turning a ``from_version`` payload into the next version."""
        key = (type_name, from_version)
        if key in self._upcasters:
            raise ValueError(f"upcaster for {type_name} v{from_version} is already registered")
        self._upcasters[key] = upcaster

    @property
    def type_names(self) -> frozenset[str]:
        return frozenset(self._types)

    @property
    def types(self) -> tuple[type[Event], ...]:
        """The registered event models, in registration order."""
        return tuple(self._types.values())

    @property
    def upcasters(self) -> dict[tuple[str, int], Upcaster]:
        """The registered upcasters by (type name, version they read); a copy."""
        return dict(self._upcasters)

    def encode(self, event: Event) -> bytes:
        if plain_json(type(event)):  # routing events and other flat records: as pydantic would
            try:
                return encode_plain(event)
            except orjson.JSONEncodeError:  # a value orjson does not write (an int above 64 bits)
                pass
        # The serializer's bytes as they are (model_dump_json decodes them to str).
        return event.__pydantic_serializer__.to_json(event)

    def encode_batch(self, events: Sequence[Event]) -> bytes:
        """One payload for ``events`` (a JSON array, even of one)."""
        if all(plain_json(type(event)) for event in events):
            try:
                return encode_plain_batch(events)
            except orjson.JSONEncodeError:
                pass
        return b"[" + b",".join(self.encode(event) for event in events) + b"]"

    def decode(self, payload: bytes) -> Event:
        raw = self._parse(payload)
        if not isinstance(raw, dict):
            raise EventDecodeError("event payload is not a JSON object")
        return self._validate(raw, payload)

    def decode_batch(self, payload: bytes) -> DecodedBatch:
        """The events of a payload holding one event or a batch; raises
        EventDecodeError only when the payload as a whole is unreadable."""
        head = payload[:1]
        if head in (b"[", b"{"):  # valid current events: one pass in pydantic's core
            if self._batches is None:
                self._batches = BatchValidator(self._types.values(), extra=self._extra)
            if head == b"[":
                valid = self._batches.validate(payload)
                if valid is not None:
                    return DecodedBatch(valid, [])
            elif (event := self._batches.validate_one(payload)) is not None:
                return DecodedBatch([event], [])
        raw = self._parse(payload)
        if isinstance(raw, dict):
            return DecodedBatch([self._validate(raw, payload)], [])
        if not isinstance(raw, list):
            raise EventDecodeError("event payload is neither a JSON object nor an array")
        events: list[Event] = []
        errors: list[EventDecodeError] = []
        for position, item in enumerate(raw):
            try:
                if not isinstance(item, dict):
                    raise EventDecodeError("not a JSON object")
                events.append(self._validate(item, None))
            except EventDecodeError as exc:
                errors.append(EventDecodeError(f"event {position + 1} of {len(raw)}: {exc}"))
        return DecodedBatch(events, errors)

    def decode_object(self, raw: dict[str, Any]) -> Event:
        """An event from its parsed JSON object (upcast when older); EventDecodeError
        names the problem, an unknown type included."""
        return self._validate(raw, None)

    def _parse(self, payload: bytes) -> object:
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            if depth := too_deep(payload):
                raise EventDecodeError(f"event payload {depth}") from exc
            raise EventDecodeError(f"event payload is not JSON: {exc}") from exc

    def _validate(self, raw: dict[str, Any], payload: bytes | None) -> Event:
        """``raw`` as an event; ``payload`` is its JSON when it is the whole payload."""
        type_name = raw.get("type")
        event_type = self._types.get(type_name) if isinstance(type_name, str) else None
        if event_type is None:
            raise EventDecodeError(f"unknown event type {type_name!r}")
        try:
            if raw.get("schema_version", 1) != event_type.SCHEMA_VERSION:
                return event_type.model_validate(self._upcast(event_type, raw), extra=self._extra)
            if payload is not None:  # current version: pydantic parses the JSON (faster)
                return event_type.model_validate_json(payload, extra=self._extra)
            return event_type.model_validate(raw, extra=self._extra)
        except ValidationError as exc:
            raise EventDecodeError(f"invalid {type_name} event: {exc}") from exc

    def _upcast(self, event_type: type[Event], raw: dict[str, Any]) -> dict[str, Any]:
        version = raw.get("schema_version", 1)
        if not isinstance(version, int) or version < 1:
            raise EventDecodeError(f"invalid schema_version {version!r} on {event_type.TYPE}")
        if version > event_type.SCHEMA_VERSION:
            raise EventDecodeError(
                f"{event_type.TYPE} v{version} is newer than this build understands "
                f"(v{event_type.SCHEMA_VERSION})"
            )
        while version < event_type.SCHEMA_VERSION:
            upcaster = self._upcasters.get((event_type.TYPE, version))
            if upcaster is None:
                raise EventDecodeError(f"no upcaster for {event_type.TYPE} v{version}")
            raw = upcaster(dict(raw))
            version += 1
            raw["schema_version"] = version
        return raw
