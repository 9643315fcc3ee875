"""Events about the prefix caches of model servers, from their own KV-cache events.

The metrics-collector reads each endpoint's KV-event stream (vLLM's ZMQ format, see
``gie.kvevents``) and republishes it on ``gie.v1.<pool>.kv.<address>``, one bus message
per engine step (a batch of the events below, in the server's order). Blocks are named
by gie's own chained keys over their token ids (``gie.prefix.token_block_keys``), never
by the server's hashes, so the picker computes the same keys from a prompt. Keys and the
ids of the servers' hashes are keyed with the pool's secret (``gie.prefix.PrefixKey``):
only a holder of the secret can compute them, so a reader cannot confirm a guessed prompt.

Every event carries the server *run* it belongs to (``epoch``, set when the collector
sees the server start or restart) and the server's batch sequence number ``seq`` within
that run. A consumer applies an event when its ``epoch`` is the endpoint's current one
and its ``seq`` is not older than the last applied (re-applying the latest batch changes
nothing), so duplicates published during a collector failover are harmless.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field, field_validator

from gie.events.address import Address
from gie.events.base import Event
from gie.events.hashes import check_packed, unpack_hashes


class KvEvent(Event):
    """Fields every KV event has (a base class; not an event type of its own)."""

    address: Address = Field(description="The endpoint whose cache changed.")
    epoch: str = Field(
        min_length=1,
        max_length=64,
        description="The server run: set by the KvCacheCleared that began it.",
    )
    seq: int = Field(
        ge=-1,
        description="The server's KV-event batch sequence number in this run "
        "(-1: before its first batch).",
    )


class KvBlocksStored(KvEvent):
    """The endpoint's prefix cache now holds these blocks (in prefix order)."""

    TYPE: ClassVar[str] = "KvBlocksStored"

    block_size: int = Field(gt=0, description="Tokens per block.")
    block_keys: str = Field(
        description="gie's chained keys of the blocks over their token ids: base64 of "
        "little-endian uint64s."
    )
    engine_hashes: str = Field(
        default="",
        description="64-bit ids of the server's own hashes of the same blocks, in the same "
        "order (base64 of little-endian uint64s): lets a collector taking over the "
        "endpoint map later removals to keys.",
    )

    _check = field_validator("block_keys", "engine_hashes")(check_packed)

    @property
    def keys(self) -> tuple[int, ...]:
        return unpack_hashes(self.block_keys)

    @property
    def engines(self) -> tuple[int, ...]:
        return unpack_hashes(self.engine_hashes)


class KvBlocksRemoved(KvEvent):
    """The endpoint's prefix cache evicted these blocks (its last copy of each)."""

    TYPE: ClassVar[str] = "KvBlocksRemoved"

    block_keys: str = Field(description="gie's keys of the evicted blocks (packed uint64s).")
    engine_hashes: str = Field(
        default="", description="64-bit ids of the server's hashes that were removed."
    )

    _check = field_validator("block_keys", "engine_hashes")(check_packed)

    @property
    def keys(self) -> tuple[int, ...]:
        return unpack_hashes(self.block_keys)

    @property
    def engines(self) -> tuple[int, ...]:
        return unpack_hashes(self.engine_hashes)


class KvClearReason(StrEnum):
    """Why an endpoint's cache is empty. Open: consumers treat unknown values as a clear."""

    START = "start"  # the collector saw the server's first batch (seq 0)
    RESTART = "restart"  # the sequence went back: the server restarted
    ALL_BLOCKS_CLEARED = "all_blocks_cleared"  # the server reset its prefix cache
    # The run's state restated in full (a KvBlocksStored follows in the same message):
    # some of its events could not be published, so consumers may have missed them.
    RESYNC = "resync"


class KvCacheCleared(KvEvent):
    """The endpoint's prefix cache is empty and its state is known from here on.

    With reason ``start`` or ``restart`` it begins a new run: ``epoch`` is new.
    """

    TYPE: ClassVar[str] = "KvCacheCleared"

    reason: str = Field(min_length=1, description="A KvClearReason value (open enum).")


class KvUnknownReason(StrEnum):
    """Why an endpoint's cache state is unknown. Open enum."""

    GAP = "gap"  # batches were lost and the replay socket could not return them
    NO_HISTORY = "no_history"  # joined a running server whose start is not replayable
    PUBLISH_FAILED = "publish_failed"  # restated after events could not be published


class KvStateUnknown(KvEvent):
    """Some of the endpoint's cache changes were missed: forget what is known of it.

    Later ``KvBlocksStored``/``KvBlocksRemoved`` events still describe true changes, but
    the set they build is incomplete until the next ``KvCacheCleared``; consumers fall
    back to other estimates for this endpoint meanwhile.
    """

    TYPE: ClassVar[str] = "KvStateUnknown"

    reason: str = Field(min_length=1, description="A KvUnknownReason value (open enum).")
    missing_from: int = Field(default=-1, ge=-1, description="First sequence not received.")
    missing_to: int = Field(default=-1, ge=-1, description="Last sequence not received.")


KV_EVENT_TYPES: tuple[type[Event], ...] = (
    KvBlocksStored,
    KvBlocksRemoved,
    KvCacheCleared,
    KvStateUnknown,
)
