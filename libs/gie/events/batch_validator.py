"""A whole batch payload validated in one pass inside pydantic's core.

A batch is a JSON array of events. Parsing it to Python objects and then validating
each object costs about half again as much as letting pydantic's core read the JSON
straight into the models, choosing each item's model by its ``type`` key. The
replicas of the picker decode every other replica's routing batches, several events
per request, so :class:`BatchValidator` is the fast path of
:meth:`gie.events.EventCodec.decode_batch`: it accepts a batch only when every item
is a valid event of a type at schema version 1 (where a missing ``schema_version``
means the current one); anything else, including any invalid item, returns None and
the codec's item-by-item path decides (naming each bad item, upcasting old versions).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import GetCoreSchemaHandler, TypeAdapter, ValidationError
from pydantic_core import core_schema

from gie.events.base import Event

__all__ = ["BatchValidator"]


class BatchValidator:
    """Validates a JSON array of events of ``types`` (those at schema version 1)."""

    def __init__(self, types: Iterable[type[Event]]) -> None:
        choices = {t.TYPE: t for t in types if t.SCHEMA_VERSION == 1}
        self._adapter: TypeAdapter[list[Event]] | None = None
        if not choices:
            return  # nothing the fast path may accept

        class _AnyEvent:
            @classmethod
            def __get_pydantic_core_schema__(
                cls, source: Any, handler: GetCoreSchemaHandler
            ) -> core_schema.CoreSchema:
                return core_schema.tagged_union_schema(
                    {name: handler.generate_schema(model) for name, model in choices.items()},
                    discriminator="type",
                )

        # Typed as what it returns: every choice is an Event model.
        self._adapter = TypeAdapter(list[_AnyEvent])  # type: ignore[arg-type]

    def validate(self, payload: bytes) -> list[Event] | None:
        """The events of ``payload``, or None unless it is an array of valid events."""
        if self._adapter is None:
            return None
        try:
            return self._adapter.validate_json(payload)
        except ValidationError:
            return None
