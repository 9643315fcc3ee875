"""MemoryFlowStore: :class:`MemoryFlowState` behind the async ``FlowStore`` contract.

One event loop only. Notices go straight to the listeners registered by ``run``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from gie_flow_controller.errors import ShardLayoutError
from gie_flow_controller.model import (
    Admission,
    AdmitStatus,
    DispatchResult,
    Finished,
    Limits,
    Room,
    ShardSnapshot,
    Ticket,
    TokenWeights,
)
from gie_flow_controller.state.contracts import (
    Collected,
    FlowStats,
    OutcomeListener,
    StoreSettings,
    WakeListener,
)
from gie_flow_controller.state.memory_state import MemoryFlowState


class MemoryFlowStore:
    """The flow state of one pool, in memory (implements ``FlowStore`` and
    ``Notifications``)."""

    def __init__(self, settings: StoreSettings | None = None) -> None:
        self.state = MemoryFlowState(settings)
        self._outcome_listeners: list[OutcomeListener] = []
        self._wake_listeners: list[WakeListener] = []

    def _announce(self, before: int) -> None:
        for note in self.state.published[before:]:
            for listener in self._outcome_listeners:
                listener(note)

    async def run(self, on_outcome: OutcomeListener, on_wake: WakeListener) -> None:
        self._outcome_listeners.append(on_outcome)
        self._wake_listeners.append(on_wake)
        try:
            await asyncio.Event().wait()
        finally:
            self._outcome_listeners.remove(on_outcome)
            self._wake_listeners.remove(on_wake)

    async def check_layout(self, shards: int) -> None:
        if self.state.layout not in (None, shards) and self.state.pool.requests > 0:
            raise ShardLayoutError(f"requests are queued on {self.state.layout} shards")
        self.state.layout = shards

    async def admit(self, ticket: Ticket, limits: Limits, *, shards: int, now_ms: int) -> Admission:
        before = len(self.state.published)
        admission = self.state.admit(ticket, limits, shards=shards, now_ms=now_ms)
        self._announce(before)
        if admission.status is AdmitStatus.QUEUED:
            for listener in self._wake_listeners:
                listener(admission.shard)
        return admission

    async def snapshot(self, shard: int, *, window: int) -> ShardSnapshot:
        return self.state.snapshot(shard, window=window)

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
        before = len(self.state.published)
        result = self.state.dispatch(shard, owner, request_id, weights, now_ms=now_ms, room=room)
        self._announce(before)
        return result

    async def expire(self, shard: int, *, now_ms: int, limit: int = 100) -> list[Finished]:
        before = len(self.state.published)
        evicted = self.state.expire(shard, now_ms=now_ms, limit=limit)
        self._announce(before)
        return evicted

    async def cancel(self, request_id: str, *, now_ms: int) -> Finished | None:
        before = len(self.state.published)
        done = self.state.cancel(request_id, now_ms=now_ms)
        self._announce(before)
        return done

    async def complete(
        self,
        request_id: str,
        *,
        input_tokens: int | None,
        output_tokens: int | None,
        now_ms: int,
    ) -> bool:
        return self.state.complete(
            request_id, input_tokens=input_tokens, output_tokens=output_tokens, now_ms=now_ms
        )

    async def outcomes(self, request_ids: Sequence[str]) -> dict[str, Finished]:
        return self.state.outcomes(list(request_ids))

    async def unknown(self, request_ids: Sequence[str]) -> set[str]:
        return {rid for rid in request_ids if rid not in self.state.requests}

    async def collect(self, *, now_ms: int) -> Collected:
        return self.state.collect(now_ms=now_ms)

    async def shard_stats(self, shard: int) -> list[FlowStats]:
        return self.state.shard_stats(shard)

    async def flow_count(self) -> int:
        return len(self.state.flows)

    async def claim(self, shard: int, owner: str, *, ttl_ms: int, now_ms: int) -> bool:
        return self.state.leases.claim(shard, owner, ttl_ms=ttl_ms, now_ms=now_ms)

    async def renew(self, shard: int, owner: str, *, ttl_ms: int, now_ms: int) -> bool:
        return self.state.leases.renew(shard, owner, ttl_ms=ttl_ms, now_ms=now_ms)

    async def release(self, shard: int, owner: str) -> bool:
        return self.state.leases.release(shard, owner)

    async def heartbeat(self, member: str, *, ttl_ms: int, now_ms: int) -> int:
        return self.state.leases.heartbeat(member, ttl_ms=ttl_ms, now_ms=now_ms)
