"""Models for consumers outside gie: the event types, accepting fields they do not know.

gie's own models reject unknown fields (a typo must not become a silently ignored
fact). A consumer built against one release must keep working when a later release
adds an optional field, so :func:`lenient_codec` decodes into subclasses of the same
models that ignore (and drop) extra fields. They are subclasses: ``isinstance(event,
RequestRouted)`` holds, validation of the known fields is the same.
"""

from __future__ import annotations

from pydantic import ConfigDict

from gie.events.base import Event
from gie.events.codec import EventCodec

_LENIENT: dict[type[Event], type[Event]] = {}


def lenient_model(model: type[Event]) -> type[Event]:
    """``model``, ignoring fields it does not declare (one subclass per model)."""
    lenient = _LENIENT.get(model)
    if lenient is None:
        config = ConfigDict(frozen=True, extra="ignore")
        lenient = type(model.__name__, (model,), {"model_config": config, "__doc__": model.__doc__})
        lenient.__qualname__ = f"{model.__qualname__}(lenient)"
        _LENIENT[model] = lenient
    return lenient


def lenient_codec(codec: EventCodec) -> EventCodec:
    """A codec of ``codec``'s types and upcasters that tolerates added fields."""
    # extra="ignore" at validation reaches the nested models too (an added field of an
    # endpoint's metrics, say), which the subclasses' own setting would not.
    lenient = EventCodec((lenient_model(model) for model in codec.types), extra="ignore")
    for (type_name, version), upcaster in codec.upcasters.items():
        lenient.register_upcaster(type_name, version, upcaster)
    return lenient
