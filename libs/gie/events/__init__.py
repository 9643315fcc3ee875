"""Event models, their wire codec and their NATS subjects.

Every fact in gie is an immutable :class:`Event` (a frozen pydantic model with
the common envelope). :func:`default_codec` knows every built-in event type;
:mod:`gie.events.subjects` is the one place subjects are spelled, and
:func:`schema_uri` names the published JSON Schema of each type (``schemas/``).
"""

from __future__ import annotations

from gie.events.address import validate_address
from gie.events.base import Event, new_event_id, utc_now
from gie.events.codec import DecodedBatch, EventCodec, Upcaster
from gie.events.endpoint import Endpoint, EndpointRemoved, EndpointUpserted
from gie.events.errors import EventDecodeError, GieEventError
from gie.events.flow import RequestDispatched, RequestEvicted, RequestQueued, RequestRejected
from gie.events.kv import (
    KvBlocksRemoved,
    KvBlocksStored,
    KvCacheCleared,
    KvClearReason,
    KvEvent,
    KvStateUnknown,
    KvUnknownReason,
)
from gie.events.metrics import EndpointMetrics, EndpointMetricsObserved
from gie.events.objective import ObjectiveRemoved, ObjectiveUpserted
from gie.events.rewrite import (
    ModelRewriteRemoved,
    ModelRewriteUpserted,
    RewriteRule,
    RewriteTarget,
)
from gie.events.routing import RequestCompleted, RequestRouted
from gie.events.saturation import PoolSaturationChanged
from gie.events.schema_ids import SCHEMA_BASE_URI, schema_uri

BUILTIN_EVENT_TYPES: tuple[type[Event], ...] = (
    EndpointUpserted,
    EndpointRemoved,
    EndpointMetricsObserved,
    RequestRouted,
    RequestCompleted,
    ObjectiveUpserted,
    ObjectiveRemoved,
    ModelRewriteUpserted,
    ModelRewriteRemoved,
    PoolSaturationChanged,
    RequestQueued,
    RequestDispatched,
    RequestRejected,
    RequestEvicted,
    KvBlocksStored,
    KvBlocksRemoved,
    KvCacheCleared,
    KvStateUnknown,
)


def default_codec() -> EventCodec:
    """A codec that knows every built-in event type."""
    return EventCodec(BUILTIN_EVENT_TYPES)


__all__ = [
    "BUILTIN_EVENT_TYPES",
    "SCHEMA_BASE_URI",
    "DecodedBatch",
    "Endpoint",
    "EndpointMetrics",
    "EndpointMetricsObserved",
    "EndpointRemoved",
    "EndpointUpserted",
    "Event",
    "EventCodec",
    "EventDecodeError",
    "GieEventError",
    "KvBlocksRemoved",
    "KvBlocksStored",
    "KvCacheCleared",
    "KvClearReason",
    "KvEvent",
    "KvStateUnknown",
    "KvUnknownReason",
    "ModelRewriteRemoved",
    "ModelRewriteUpserted",
    "ObjectiveRemoved",
    "ObjectiveUpserted",
    "PoolSaturationChanged",
    "RequestCompleted",
    "RequestDispatched",
    "RequestEvicted",
    "RequestQueued",
    "RequestRejected",
    "RequestRouted",
    "RewriteRule",
    "RewriteTarget",
    "Upcaster",
    "default_codec",
    "new_event_id",
    "schema_uri",
    "utc_now",
    "validate_address",
]
