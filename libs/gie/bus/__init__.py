"""The event bus: NATS JetStream in production, in memory for unit tests.

:class:`NatsEventBus` is the adapter (connect with retries and reconnect,
idempotent stream set-up, publish with ``Nats-Msg-Id``, replay-then-follow
subscriptions, clean shutdown). :class:`MemoryEventBus` honours the same
contract in one process. :class:`BackgroundPublisher` keeps publishing off the
request path. All of it runs on one asyncio loop; nothing here is thread-safe.
"""

from __future__ import annotations

# First, before any module below imports nats: nats-py without aiohttp until it is used.
import gie.bus.nats_loading  # noqa: F401

# isort: split
from gie.bus.background import BackgroundPublisher
from gie.bus.contracts import EventBus, EventHandler, EventPublisher, Following
from gie.bus.errors import BusConnectError, BusPublishError, GieBusError
from gie.bus.memory_bus import MemoryEventBus
from gie.bus.metrics import BusMetrics
from gie.bus.nats_bus import NatsEventBus
from gie.bus.snapshots import MemorySnapshotStore, NatsSnapshotStore, SnapshotStore
from gie.bus.streams import ALL_STREAMS, EVENTS, KV, STATE, Deliver, StreamSpec
from gie.bus.subject_match import subject_matches

__all__ = [
    "ALL_STREAMS",
    "EVENTS",
    "KV",
    "STATE",
    "BackgroundPublisher",
    "BusConnectError",
    "BusMetrics",
    "BusPublishError",
    "Deliver",
    "EventBus",
    "EventHandler",
    "EventPublisher",
    "Following",
    "GieBusError",
    "MemoryEventBus",
    "MemorySnapshotStore",
    "NatsEventBus",
    "NatsSnapshotStore",
    "SnapshotStore",
    "StreamSpec",
    "subject_matches",
]
