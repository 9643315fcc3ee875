"""The JetStream streams gie uses, split by retention need."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gie.events import subjects


class Deliver(StrEnum):
    """Where a subscription starts."""

    ALL = "all"  # every stored event, then new ones
    LAST_PER_SUBJECT = "last_per_subject"  # the latest event of each subject, then new ones
    NEW = "new"  # only events published after subscribing
    SINCE = "since"  # events stored at or after a start time, then new ones
    FROM_SEQUENCE = "from_sequence"  # events from a stream sequence on, then new ones


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """Retention settings of one stream."""

    name: str
    subjects: tuple[str, ...]
    max_msgs_per_subject: int = -1
    max_age_s: float = 0.0
    max_bytes: int = -1
    duplicate_window_s: float = 120.0


# Latest-value state: endpoints, metrics, saturation, objectives. A small
# per-subject history; consumers replay the last event of each subject.
STATE = StreamSpec(
    name="GIE_STATE",
    subjects=subjects.STATE_SUBJECTS,
    max_msgs_per_subject=5,
    max_bytes=256 * 1024 * 1024,
)

# Routing and flow events: what third parties consume. Bounded by age and size.
EVENTS = StreamSpec(
    name="GIE_EVENTS",
    subjects=subjects.EVENT_SUBJECTS,
    max_age_s=3600.0,
    max_bytes=1024 * 1024 * 1024,
)

# Model servers' prefix-cache changes (``kv.<address>``), replayed in full by pickers
# and collectors to rebuild what each server caches. Bounded by age and size: an
# endpoint whose last KvCacheCleared aged out is "state unknown" to a newcomer.
KV = StreamSpec(
    name="GIE_KV",
    subjects=subjects.KV_SUBJECTS,
    max_age_s=6 * 3600.0,
    max_bytes=1024 * 1024 * 1024,
)

ALL_STREAMS: tuple[StreamSpec, ...] = (STATE, EVENTS, KV)
