"""Events whose JSON is their field values as they are: encoded without pydantic.

A routing event is a flat record of strings, numbers, None, timestamps and tuples of
strings. Its pydantic JSON is exactly ``orjson``'s encoding of the instance's fields
in order (timestamps as RFC 3339 with ``Z`` for UTC), and ``orjson`` writes it in a
fifth of the time; the picker encodes two such events per request, and orjson is the
code it runs for every request body anyway. :func:`plain_json` tells, once per model,
whether that holds: every field of a plain type, no serializer, alias, exclusion or
computed field. Any other model is encoded by pydantic.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from gie.events.base import Event

__all__ = ["encode_plain", "encode_plain_batch", "plain_json"]

_ATOMS: frozenset[Any] = frozenset((str, int, float, bool, datetime, type(None)))
_OPTIONS = orjson.OPT_UTC_Z
_KNOWN: dict[type[Event], bool] = {}


def _plain(annotation: Any) -> bool:
    if annotation in _ATOMS:
        return True
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _plain(arguments[0])
    if origin in (typing.Union, types.UnionType):
        return all(_plain(argument) for argument in arguments)
    if origin is tuple and len(arguments) == 2 and arguments[1] is Ellipsis:
        return _plain(arguments[0])
    return False


def plain_json(model: type[Event]) -> bool:
    """Whether ``model``'s pydantic JSON is :func:`encode_plain` of its instances."""
    known = _KNOWN.get(model)
    if known is None:
        decorators = model.__pydantic_decorators__
        known = (
            not decorators.field_serializers
            and not decorators.model_serializers
            and not model.model_computed_fields
            and all(
                _plain(info.annotation)
                and info.alias is None
                and info.serialization_alias is None
                and not info.exclude
                for info in model.model_fields.values()
            )
        )
        _KNOWN[model] = known
    return known


def encode_plain(event: Event) -> bytes:
    """The JSON of an event of a :func:`plain_json` model."""
    return orjson.dumps(event.__dict__, option=_OPTIONS)


def encode_plain_batch(events: Sequence[Event]) -> bytes:
    """The JSON array of events of :func:`plain_json` models (one call for all)."""
    return orjson.dumps([event.__dict__ for event in events], option=_OPTIONS)
