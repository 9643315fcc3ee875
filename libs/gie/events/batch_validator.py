"""Payloads of valid current events validated in one pass inside pydantic's core.

A batch is a JSON array of events. Parsing it to Python objects and then validating
each object costs about half again as much as letting pydantic's core read the JSON
straight into the models, choosing each item's model by its ``type`` key. The
replicas of the picker decode every other replica's routing batches, several events
per request, and a starting replica replays hundreds of thousands of them before it
answers ready, so :class:`BatchValidator` is the fast path of
:meth:`gie.events.EventCodec.decode_batch`, for a batch and for a payload of one
event alike: it accepts a payload only when every event in it is a valid event of a
type at schema version 1 (where a missing ``schema_version`` means the current one);
anything else, including any invalid item, returns None and the codec's
item-by-item path decides (naming each bad item, upcasting old versions).

The envelope's own check (:meth:`Event._fill_type_and_version`, a Python function
pydantic calls once per event) is done here by the core itself where a model's
schema allows: ``type`` must equal the model's ``TYPE`` and ``schema_version``, when
present, must be 1 (the same int parsing), both filled in when absent. It accepts
exactly the events the model accepts, with the same values and the same fields set
(a test holds the two to the same answers), at a fifth less time per event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from pydantic import GetCoreSchemaHandler, TypeAdapter, ValidationError
from pydantic.config import ExtraValues
from pydantic_core import CoreSchema, core_schema

from gie.events.base import Event

__all__ = ["BatchValidator", "envelope_in_core"]


def _envelope_check() -> object:
    """The Python function of the envelope's after-validator (Event's outermost)."""
    schema: Mapping[str, Any] = Event.__pydantic_core_schema__
    return schema["function"]["function"] if schema["type"] == "function-after" else None


_ENVELOPE_CHECK = _envelope_check()


def _refers(schema: object) -> bool:
    """Whether a core schema points at definitions held elsewhere."""
    if isinstance(schema, Mapping):
        return schema.get("type") == "definition-ref" or any(_refers(v) for v in schema.values())
    if isinstance(schema, list | tuple):
        return any(_refers(v) for v in schema)
    return False


def envelope_in_core(model: type[Event]) -> CoreSchema | None:
    """``model``'s core schema with the envelope's check done by the core (see the
    module's doc), or None when its schema is not of the shape this knows: the
    envelope's after-validator outermost around a self-contained model schema."""
    schema: Mapping[str, Any] = model.__pydantic_core_schema__
    if schema.get("type") != "function-after" or _ENVELOPE_CHECK is None:
        return None
    if schema["function"].get("function") is not _ENVELOPE_CHECK:
        return None
    inner = schema["schema"]
    fields = inner.get("schema", {}).get("fields") if inner.get("type") == "model" else None
    if not fields or "type" not in fields or "schema_version" not in fields or _refers(inner):
        return None
    version = core_schema.int_schema(ge=model.SCHEMA_VERSION, le=model.SCHEMA_VERSION)
    type_name = core_schema.literal_schema([model.TYPE])
    checked = {
        **fields,
        "type": core_schema.model_field(
            core_schema.with_default_schema(type_name, default=model.TYPE)
        ),
        "schema_version": core_schema.model_field(
            core_schema.with_default_schema(version, default=model.SCHEMA_VERSION)
        ),
    }
    return cast(CoreSchema, {**inner, "schema": {**inner["schema"], "fields": checked}})


class BatchValidator:
    """Validates a JSON array of events, or one event, of ``types`` (those at schema
    version 1)."""

    def __init__(self, types: Iterable[type[Event]], *, extra: ExtraValues | None = None) -> None:
        self._extra = extra
        choices = {t.TYPE: t for t in types if t.SCHEMA_VERSION == 1}
        self._batch: TypeAdapter[list[Event]] | None = None
        self._one: TypeAdapter[Event] | None = None
        if not choices:
            return  # nothing the fast path may accept

        class _AnyEvent:
            @classmethod
            def __get_pydantic_core_schema__(
                cls, source: Any, handler: GetCoreSchemaHandler
            ) -> core_schema.CoreSchema:
                return core_schema.tagged_union_schema(
                    {
                        name: envelope_in_core(model) or handler.generate_schema(model)
                        for name, model in choices.items()
                    },
                    discriminator="type",
                )

        # Typed as what they return: every choice is an Event model.
        self._batch = TypeAdapter(list[_AnyEvent])  # type: ignore[arg-type]
        self._one = TypeAdapter(_AnyEvent)  # type: ignore[arg-type]

    def validate(self, payload: bytes) -> list[Event] | None:
        """The events of ``payload``, or None unless it is an array of valid events."""
        if self._batch is None:
            return None
        try:
            return self._batch.validate_json(payload, extra=self._extra)
        except ValidationError:
            return None

    def validate_one(self, payload: bytes) -> Event | None:
        """The event of ``payload``, or None unless it is one valid event."""
        if self._one is None:
            return None
        try:
            return self._one.validate_json(payload, extra=self._extra)
        except ValidationError:
            return None
