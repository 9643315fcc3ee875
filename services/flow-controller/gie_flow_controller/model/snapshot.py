"""What a shard worker (and its policies) sees of a shard: its highest backlogged band.

Snapshots are immutable values read from the flow state in one atomic step. Policies
choose from them; the state then checks the choice is still valid when it dispatches.
"""

from __future__ import annotations

from dataclasses import dataclass

from gie.flowcontrol import FlowKey


@dataclass(frozen=True, slots=True)
class QueuedRequest:
    """A request waiting in a flow's queue."""

    request_id: str
    flow: FlowKey
    enqueued_ms: int
    byte_size: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    expires_ms: int = 0  # 0: no TTL
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FlowQueue:
    """One flow's queue in a band of a shard.

    ``head`` holds the first requests in arrival order (as many as the band's ordering
    policy asks to see); ``counter`` is the flow's virtual token counter.
    """

    flow: FlowKey
    queued: int
    queued_bytes: int
    counter: float
    head: tuple[QueuedRequest, ...]

    @property
    def fairness_id(self) -> str:
        return self.flow.fairness_id


@dataclass(frozen=True, slots=True)
class BandView:
    """A band's backlogged flows on one shard, sorted by fairness id.

    ``cursor`` is the fairness id served last in this band on this shard (round-robin).
    """

    priority: int
    flows: tuple[FlowQueue, ...]
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class ShardSnapshot:
    """A shard's highest band with queued requests, and the pool's highest such band."""

    shard: int
    band: BandView | None
    pool_top_priority: int | None

    @property
    def blocked_by_higher_band(self) -> bool:
        """A higher band has queued requests elsewhere: strict priority says wait."""
        return (
            self.band is not None
            and self.pool_top_priority is not None
            and self.pool_top_priority > self.band.priority
        )
