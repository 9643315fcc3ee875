"""The flow state port: queues, counters, leases and in-flight sets of one pool.

:class:`RedisFlowStore` is the adapter (every change one atomic Lua script);
:class:`MemoryFlowStore` honours the same contract in one process and is the model the
property tests check the policies against. The same contract suite runs on both.

Rules every implementation follows:

* Every request id has at most one outcome. ``admit`` of a known id changes nothing and
  answers ``EXISTING`` with the recorded outcome, if any.
* A request leaves its queue exactly once: dispatched (``dispatch``), evicted by its TTL
  (``expire``), cancelled (``cancel``), or displaced by higher-priority work (``admit``).
* Capacity is checked at admission: the request's band limits (reject), then the pool
  limits (displace queued requests of lower bands, lowest band and newest first; reject
  when that cannot make room). No limit is ever exceeded.
* ``dispatch`` succeeds only for the shard's lease owner, for a request still queued on
  that shard, while no higher band has queued requests anywhere (strict priority), and
  while the room it is given is not used up by requests in flight that any replica
  dispatched since the metrics showing that room were scraped.
* A flow lives while it has requests queued or in flight; then its lease runs for the
  flow idle timeout and ``collect`` forgets it (counters included).
* Times are wall-clock milliseconds passed in by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from gie.flowcontrol import FlowKey
from gie_flow_controller.model import (
    Admission,
    DispatchResult,
    Finished,
    Limits,
    Room,
    ShardSnapshot,
    Ticket,
    TokenWeights,
)

OutcomeListener = Callable[[Finished], None]
WakeListener = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """Retention settings of a flow state."""

    flow_idle_ms: int = 300_000  # a flow with nothing queued or in flight lives this long
    outcome_keep_ms: int = 600_000  # outcomes are remembered (idempotency) this long
    inflight_ttl_ms: int = 600_000  # dispatched requests without a completion are dropped
    max_victims: int = 1000  # most requests displaced by one admission


@dataclass(frozen=True, slots=True)
class FlowStats:
    """Queued requests and bytes of one flow on one shard (for gauges)."""

    flow: FlowKey
    queued: int
    queued_bytes: int


@dataclass(frozen=True, slots=True)
class Collected:
    """What one ``collect`` pass removed."""

    inflight_expired: int
    flows_collected: int


class FlowStore(Protocol):
    """The flow state of one pool. Methods MUST be safe to call from any task."""

    async def check_layout(self, shards: int) -> None:
        """Record the shard count; ShardLayoutError if queued work uses another."""

    async def admit(self, ticket: Ticket, limits: Limits, *, shards: int, now_ms: int) -> Admission:
        """Queue ``ticket`` on a shard (its flow's shard, else the one with the fewest
        queued bytes), reject it, or answer what became of an earlier admission."""

    async def snapshot(self, shard: int, *, window: int) -> ShardSnapshot: ...

    async def dispatch(
        self,
        shard: int,
        owner: str,
        request_id: str,
        weights: TokenWeights,
        *,
        now_ms: int,
        room: Room | None = None,
    ) -> DispatchResult:
        """Dispatch a queued request of ``shard`` (NOT_OWNER, GONE, BLOCKED otherwise);
        with ``room``, NO_ROOM when ``room.slots`` requests dispatched at or after
        ``room.since_ms`` (by any replica) are still in flight."""

    async def expire(self, shard: int, *, now_ms: int, limit: int = 100) -> list[Finished]:
        """Evict requests of ``shard`` whose TTL passed (outcome EvictedTTL)."""

    async def cancel(self, request_id: str, *, now_ms: int) -> Finished | None:
        """Cancel a queued request; None when it is not queued (unknown or finished)."""

    async def complete(
        self,
        request_id: str,
        *,
        input_tokens: int | None,
        output_tokens: int | None,
        now_ms: int,
    ) -> bool:
        """A dispatched request finished: leave the in-flight set, correct the flow's
        counter by the actual usage. False when already done (idempotent)."""

    async def outcomes(self, request_ids: Sequence[str]) -> dict[str, Finished]:
        """The recorded outcomes of those of ``request_ids`` that have one."""

    async def unknown(self, request_ids: Sequence[str]) -> set[str]:
        """Those of ``request_ids`` the flow state holds nothing about: never admitted,
        forgotten after their outcome's retention, or lost (Redis restarted without
        them)."""

    async def collect(self, *, now_ms: int) -> Collected:
        """Drop in-flight requests older than the in-flight TTL; forget expired flows."""

    async def shard_stats(self, shard: int) -> list[FlowStats]: ...

    async def flow_count(self) -> int:
        """Flows alive (busy, or idle with a lease not yet expired)."""

    async def claim(self, shard: int, owner: str, *, ttl_ms: int, now_ms: int) -> bool: ...

    async def renew(self, shard: int, owner: str, *, ttl_ms: int, now_ms: int) -> bool: ...

    async def release(self, shard: int, owner: str) -> bool: ...

    async def heartbeat(self, member: str, *, ttl_ms: int, now_ms: int) -> int:
        """Announce ``member`` alive for ``ttl_ms``; the number of live members."""


class Notifications(Protocol):
    """Outcome and wake-up notices of a flow state (best effort: may be lost)."""

    async def run(self, on_outcome: OutcomeListener, on_wake: WakeListener) -> None:
        """Deliver notices until cancelled."""
