"""MemoryFlowState: the flow state as plain Python, step for step what the Lua does.

Synchronous, deterministic and single-threaded: the property tests drive it directly,
:class:`~gie_flow_controller.state.memory_store.MemoryFlowStore` wraps it for the async
contract. Every method mirrors the Lua script of the same name; the contract suite runs
the same scenarios on both and compares the answers.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from gie.flowcontrol import FlowKey, Outcome
from gie_flow_controller.errors import LayoutChangedError
from gie_flow_controller.model import (
    Admission,
    AdmitStatus,
    BandView,
    DispatchResult,
    DispatchStatus,
    Finished,
    FlowQueue,
    Limits,
    QueuedRequest,
    Room,
    ShardSnapshot,
    Ticket,
    TokenWeights,
)
from gie_flow_controller.state.contracts import Collected, FlowStats, StoreSettings
from gie_flow_controller.state.memory_parts import Leases, Totals
from gie_flow_controller.state.shard_choice import least_loaded


@dataclass(slots=True)
class _Request:
    ticket: Ticket
    shard: int
    enqueued_ms: int
    state: str = "queued"  # queued | dispatched | done
    outcome: Outcome | None = None
    reason: str = ""
    finished_ms: int = 0
    charge: float = 0.0
    weights: TokenWeights = field(default_factory=TokenWeights)
    completed: bool = False

    def finished(self) -> Finished:
        assert self.outcome is not None
        t = self.ticket
        return Finished(
            t.request_id,
            t.flow,
            self.outcome,
            self.reason,
            self.shard,
            self.enqueued_ms,
            self.finished_ms,
        )


@dataclass(slots=True)
class _Flow:
    queue: deque[str] = field(default_factory=deque)
    queued_bytes: int = 0
    inflight: int = 0
    counter: float = 0.0
    shard: int | None = None
    lease_until: float = math.inf


class MemoryFlowState:
    """The flow state of one pool, in memory (see the store contract for the rules)."""

    def __init__(self, settings: StoreSettings | None = None) -> None:
        self.settings = settings or StoreSettings()
        self.requests: dict[str, _Request] = {}
        self.flows: dict[FlowKey, _Flow] = {}
        self.bands: dict[int, Totals] = {}
        self.pool = Totals()
        self.shards: dict[int, Totals] = {}
        self.shard_flows: dict[tuple[int, int], set[str]] = {}
        self.cursors: dict[tuple[int, int], str] = {}
        self.backlog: dict[int, dict[str, float]] = {}  # band -> backlogged flow -> counter
        self.floors: dict[int, float] = {}
        self.inflight: dict[str, int] = {}
        self.leases = Leases()
        self.layout: int | None = None
        self.published: list[Finished] = []  # outcome notices, in order

    # -- admission -------------------------------------------------------
    def admit(self, ticket: Ticket, limits: Limits, *, shards: int, now_ms: int) -> Admission:
        rid, flow = ticket.request_id, ticket.flow
        known = self.requests.get(rid)
        if known is not None:
            done = known.finished() if known.outcome is not None else None
            return Admission(AdmitStatus.EXISTING, rid, known.shard, known.enqueued_ms, done)
        if self.layout is not None and self.layout != shards:
            raise LayoutChangedError.between(self.layout, shards)
        band = self.bands.get(flow.priority, Totals())
        if band.bytes + ticket.byte_size > limits.band_max_bytes:
            return self._reject(ticket, "band-bytes", now_ms)
        if band.requests + 1 > limits.band_max_requests:
            return self._reject(ticket, "band-requests", now_ms)
        need_bytes = need_requests = 0
        if limits.pool_max_bytes > 0:
            need_bytes = self.pool.bytes + ticket.byte_size - limits.pool_max_bytes
        if limits.pool_max_requests > 0:
            need_requests = self.pool.requests + 1 - limits.pool_max_requests
        displaced: list[Finished] = []
        if need_bytes > 0 or need_requests > 0:
            victims, enough = self._victims(flow.priority, need_bytes, need_requests)
            if not enough:
                freed = sum(self.requests[v].ticket.byte_size for v in victims)
                reason = "pool-bytes" if need_bytes > 0 and freed < need_bytes else "pool-requests"
                return self._reject(ticket, reason, now_ms)
            for victim in victims:
                request = self.requests[victim]
                self._unqueue(request)
                displaced.append(
                    self._finish(request, Outcome.REJECTED_CAPACITY, "displaced", now_ms)
                )
                self._touch(request.ticket.flow, now_ms)
        shard = self._enqueue(ticket, shards, now_ms)
        return Admission(AdmitStatus.QUEUED, rid, shard, now_ms, None, tuple(displaced))

    def _reject(self, ticket: Ticket, reason: str, now_ms: int) -> Admission:
        request = _Request(ticket, -1, now_ms)
        self.requests[ticket.request_id] = request
        done = self._finish(request, Outcome.REJECTED_CAPACITY, reason, now_ms)
        return Admission(AdmitStatus.REJECTED, ticket.request_id, -1, now_ms, done)

    def _victims(
        self, priority: int, need_bytes: int, need_requests: int
    ) -> tuple[list[str], bool]:
        """Queued requests of lower bands to displace: lowest band first, newest first."""
        victims: list[str] = []
        freed_bytes = freed_requests = 0
        for band in sorted(p for p in self.bands if p < priority):
            queued = [r for r in self.requests.values() if self._queued_in(r, band)]
            queued.sort(key=lambda r: (r.enqueued_ms, r.ticket.request_id), reverse=True)
            for request in queued:
                victims.append(request.ticket.request_id)
                freed_bytes += request.ticket.byte_size
                freed_requests += 1
                if freed_bytes >= need_bytes and freed_requests >= need_requests:
                    return victims, True
                if len(victims) >= self.settings.max_victims:
                    return victims, False
        return victims, False

    @staticmethod
    def _queued_in(request: _Request, band: int) -> bool:
        return request.state == "queued" and request.ticket.flow.priority == band

    def _enqueue(self, ticket: Ticket, shards: int, now_ms: int) -> int:
        flow_key, prio = ticket.flow, ticket.flow.priority
        flow = self.flows.get(flow_key)
        if flow is None or flow.lease_until < now_ms:  # an expired lease: a new flow
            flow = self.flows[flow_key] = _Flow()
        if flow.shard is None:
            loads = [self.shards.get(s, Totals()).bytes for s in range(shards)]
            flow.shard = least_loaded(flow_key.fairness_id, loads)
        shard = flow.shard
        self.requests[ticket.request_id] = _Request(ticket, shard, now_ms)
        flow.queue.append(ticket.request_id)
        flow.queued_bytes += ticket.byte_size
        flow.lease_until = math.inf
        if len(flow.queue) == 1:
            backlog = self.backlog.setdefault(prio, {})
            lift = min(backlog.values()) if backlog else self.floors.get(prio, 0.0)
            flow.counter = max(flow.counter, lift)
            backlog[flow_key.fairness_id] = flow.counter
            self.shard_flows.setdefault((shard, prio), set()).add(flow_key.fairness_id)
        for totals in (self.bands.setdefault(prio, Totals()), self.pool):
            totals.add(ticket.byte_size, 1)
        self.shards.setdefault(shard, Totals()).add(ticket.byte_size, 1)
        return shard

    # -- leaving the queue -----------------------------------------------
    def _unqueue(self, request: _Request) -> int:
        ticket, shard = request.ticket, request.shard
        prio, fid = ticket.flow.priority, ticket.flow.fairness_id
        flow = self.flows[ticket.flow]
        flow.queue.remove(ticket.request_id)
        flow.queued_bytes -= ticket.byte_size
        self.bands[prio].add(-ticket.byte_size, -1)
        if self.bands[prio].requests <= 0:
            del self.bands[prio]
        self.pool.add(-ticket.byte_size, -1)
        self.shards[shard].add(-ticket.byte_size, -1)
        if not flow.queue:
            members = self.shard_flows[(shard, prio)]
            members.discard(fid)
            if not members:
                del self.shard_flows[(shard, prio)]
            self.backlog.get(prio, {}).pop(fid, None)
            flow.shard = None
        return len(flow.queue)

    def _finish(self, request: _Request, outcome: Outcome, reason: str, now_ms: int) -> Finished:
        request.state = "dispatched" if outcome is Outcome.DISPATCHED else "done"
        request.outcome, request.reason, request.finished_ms = outcome, reason, now_ms
        done = request.finished()
        self.published.append(done)
        return done

    def _touch(self, key: FlowKey, now_ms: int) -> None:
        flow = self.flows.get(key)
        if flow is not None and not flow.queue and flow.inflight <= 0:
            flow.lease_until = now_ms + self.settings.flow_idle_ms

    def snapshot(self, shard: int, *, window: int) -> ShardSnapshot:
        top = max(self.bands, default=None)
        prios = [prio for (s, prio) in self.shard_flows if s == shard]
        if not prios:
            return ShardSnapshot(shard, None, top)
        prio = max(prios)
        queues = []
        for fid in sorted(self.shard_flows[(shard, prio)]):
            key = FlowKey(fid, prio)
            flow = self.flows[key]
            head = tuple(self._queued(rid) for rid in list(flow.queue)[:window])
            queues.append(FlowQueue(key, len(flow.queue), flow.queued_bytes, flow.counter, head))
        band = BandView(prio, tuple(queues), self.cursors.get((shard, prio)))
        return ShardSnapshot(shard, band, top)

    def _queued(self, rid: str) -> QueuedRequest:
        request = self.requests[rid]
        t = request.ticket
        return QueuedRequest(
            rid,
            t.flow,
            request.enqueued_ms,
            t.byte_size,
            t.input_tokens,
            t.output_tokens,
            t.expires_ms,
            t.candidates,
        )

    def dispatch(
        self,
        shard: int,
        owner: str,
        request_id: str,
        weights: TokenWeights,
        *,
        now_ms: int,
        room: Room | None = None,
    ) -> DispatchResult:
        if self.leases.owner(shard, now_ms) != owner:
            return DispatchResult(DispatchStatus.NOT_OWNER)
        request = self.requests.get(request_id)
        if request is None or request.state != "queued" or request.shard != shard:
            return DispatchResult(DispatchStatus.GONE)
        prio = request.ticket.flow.priority
        if max(self.bands, default=prio) > prio:
            return DispatchResult(DispatchStatus.BLOCKED)
        if room is not None and room.slots is not None:
            used = sum(1 for at in self.inflight.values() if at >= room.since_ms)
            if used >= room.slots:
                return DispatchResult(DispatchStatus.NO_ROOM)
        backlog = self.backlog.get(prio, {})
        if backlog:
            self.floors[prio] = max(self.floors.get(prio, 0.0), min(backlog.values()))
        charge = weights.charge(request.ticket.input_tokens, request.ticket.output_tokens)
        left = self._unqueue(request)
        flow = self.flows[request.ticket.flow]
        flow.counter += charge
        if left > 0:
            backlog[request.ticket.flow.fairness_id] = flow.counter
        flow.inflight += 1
        self.cursors[(shard, prio)] = request.ticket.flow.fairness_id
        self.inflight[request_id] = now_ms
        request.charge, request.weights = charge, weights
        done = self._finish(request, Outcome.DISPATCHED, "", now_ms)
        return DispatchResult(DispatchStatus.DISPATCHED, done, charge)

    def expire(self, shard: int, *, now_ms: int, limit: int = 100) -> list[Finished]:
        due = [
            (r.ticket.expires_ms, r.ticket.request_id)
            for r in self.requests.values()
            if r.state == "queued" and r.shard == shard and 0 < r.ticket.expires_ms <= now_ms
        ]
        evicted = []
        for _, rid in sorted(due)[:limit]:
            request = self.requests[rid]
            self._unqueue(request)
            evicted.append(self._finish(request, Outcome.EVICTED_TTL, "ttl", now_ms))
            self._touch(request.ticket.flow, now_ms)
        return evicted

    def cancel(self, request_id: str, *, now_ms: int) -> Finished | None:
        request = self.requests.get(request_id)
        if request is None or request.state != "queued":
            return None
        self._unqueue(request)
        done = self._finish(request, Outcome.CANCELLED, "cancelled", now_ms)
        self._touch(request.ticket.flow, now_ms)
        return done

    def complete(
        self, request_id: str, *, input_tokens: int | None, output_tokens: int | None, now_ms: int
    ) -> bool:
        request = self.requests.get(request_id)
        if request is None or request.state != "dispatched" or request.completed:
            return False
        request.completed = True
        self.inflight.pop(request_id, None)
        flow = self.flows.get(request.ticket.flow)
        if flow is None:
            return True
        flow.inflight = max(flow.inflight - 1, 0)
        if input_tokens is not None or output_tokens is not None:
            actual = request.weights.charge(
                request.ticket.input_tokens if input_tokens is None else input_tokens,
                request.ticket.output_tokens if output_tokens is None else output_tokens,
            )
            flow.counter += actual - request.charge
            backlog = self.backlog.get(request.ticket.flow.priority, {})
            if request.ticket.flow.fairness_id in backlog:
                backlog[request.ticket.flow.fairness_id] = flow.counter
        self._touch(request.ticket.flow, now_ms)
        return True

    def outcomes(self, request_ids: list[str]) -> dict[str, Finished]:
        found = {rid: self.requests.get(rid) for rid in request_ids}
        return {rid: r.finished() for rid, r in found.items() if r and r.outcome is not None}

    def collect(self, *, now_ms: int) -> Collected:
        stale = [
            rid for rid, at in self.inflight.items() if at < now_ms - self.settings.inflight_ttl_ms
        ]
        for rid in stale:
            self.complete(rid, input_tokens=None, output_tokens=None, now_ms=now_ms)
        idle = [key for key, flow in self.flows.items() if flow.lease_until <= now_ms]
        for key in idle:
            del self.flows[key]
        self.leases.prune_members(now_ms)
        return Collected(len(stale), len(idle))

    def shard_stats(self, shard: int) -> list[FlowStats]:
        return [
            FlowStats(key, len(flow.queue), flow.queued_bytes)
            for key, flow in sorted(
                self.flows.items(), key=lambda item: (item[0].priority, item[0])
            )
            if flow.shard == shard and flow.queue
        ]
