"""A consumer SDK for gie's events: typed, at least once, deduplicated, gap-aware.

::

    from gie.consume import subscribe

    async for event in subscribe("nats://127.0.0.1:4222", pool="default/sim-pool",
                                 types=["RequestCompleted"], since="10m", durable="billing"):
        ...  # acknowledged once this body returns

How it is put together: :func:`subscribe` reads a JetStream pull consumer (durable
or ephemeral) with explicit acks; :mod:`~gie.consume.messages` turns a message (one
event or a batch) into models of :func:`gie.events.lenient.lenient_codec` (added
fields ignored, old versions upcast) or :class:`RawEvent`;
:class:`~gie.consume.dedup.RecentIds` drops duplicates by event id;
:class:`~gie.consume.gaps.GapDetector` watches each publisher's ``publisher_seq``;
:func:`~gie.consume.retention.check_start` refuses a start older than the stream
keeps. ``gie events tail`` uses the same pieces with an ordered, non-acknowledging
consumer. Concurrency: one asyncio task iterates a subscription; nothing here is
thread-safe.
"""

from __future__ import annotations

from gie.consume.dedup import RecentIds
from gie.consume.errors import GieConsumeError, InvalidSinceError, StartTooOldError
from gie.consume.gaps import Gap, GapDetector
from gie.consume.messages import Item, decode_message
from gie.consume.raw_event import RawEvent
from gie.consume.retention import check_start
from gie.consume.since import parse_since
from gie.consume.subscribe import EVENTS_STREAM, subject_filter, subscribe, wanted_by_header
from gie.consume.tail import TailedEvent, tail

__all__ = [
    "EVENTS_STREAM",
    "Gap",
    "GapDetector",
    "GieConsumeError",
    "InvalidSinceError",
    "Item",
    "RawEvent",
    "RecentIds",
    "StartTooOldError",
    "TailedEvent",
    "check_start",
    "decode_message",
    "parse_since",
    "subject_filter",
    "subscribe",
    "tail",
    "wanted_by_header",
]
