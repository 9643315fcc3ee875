"""A driver of the in-memory flow state for property tests.

It runs the same decision code as the shard workers (``choose`` over the state's
snapshot, then the fenced dispatch) with an always-open gate, and records what it saw so
tests can check the invariants of flow control after every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gie.flowcontrol import FlowControlConfig, FlowKey, Outcome
from gie_flow_controller.model import (
    AdmitStatus,
    BandTable,
    DispatchStatus,
    Finished,
    Ticket,
)
from gie_flow_controller.policies import PolicySet, builtin_policies, choose
from gie_flow_controller.state import MemoryFlowState, StoreSettings

OWNER = "model"
START_MS = 1_800_000_000_000


@dataclass(frozen=True, slots=True)
class Dispatch:
    request_id: str
    flow: FlowKey
    shard: int
    counters_before: dict[str, float]  # backlogged flows of the band -> counter
    pool_top_before: int | None


@dataclass
class FlowModel:
    """The flow state of one pool plus the policies of ``config``."""

    config: FlowControlConfig
    shards: int = 1
    now_ms: int = START_MS
    state: MemoryFlowState = field(init=False)
    bands: BandTable = field(init=False)
    policies: PolicySet = field(init=False)
    admitted: dict[str, Ticket] = field(default_factory=dict)  # in admission order
    dispatches: list[Dispatch] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.state = MemoryFlowState(
            StoreSettings(flow_idle_ms=3_600_000, inflight_ttl_ms=3_600_000)
        )
        self.bands = BandTable(self.config)
        self.policies = PolicySet(self.bands, builtin_policies())
        for shard in range(self.shards):
            assert self.state.leases.claim(shard, OWNER, ttl_ms=10**12, now_ms=self.now_ms)

    def admit(
        self,
        request_id: str,
        flow: FlowKey,
        *,
        byte_size: int = 0,
        input_tokens: int = 0,
        output_tokens: int = 0,
        ttl_ms: int = 0,
    ) -> AdmitStatus:
        ticket = Ticket(
            request_id,
            flow,
            byte_size,
            input_tokens,
            output_tokens,
            expires_ms=self.now_ms + ttl_ms if ttl_ms else 0,
        )
        admission = self.state.admit(
            ticket, self.bands.limits(flow.priority), shards=self.shards, now_ms=self.now_ms
        )
        if admission.status is not AdmitStatus.EXISTING:
            self.admitted[request_id] = ticket
        return admission.status

    def dispatch_once(self, shard: int) -> bool:
        """One worker step on ``shard``: True when a request was dispatched."""
        snapshot = self.state.snapshot(shard, window=self.policies.window)
        chosen = choose(snapshot, self.policies)
        if chosen is None:
            return False
        prio = chosen.flow.priority
        counters = dict(self.state.backlog.get(prio, {}))
        top = max(self.state.bands, default=None)
        result = self.state.dispatch(
            shard, OWNER, chosen.request_id, self.bands.weights(prio), now_ms=self.now_ms
        )
        assert result.status is DispatchStatus.DISPATCHED, result
        self.dispatches.append(Dispatch(chosen.request_id, chosen.flow, shard, counters, top))
        return True

    def dispatch_round(self) -> int:
        """Every shard dispatches once (as their workers would, concurrently)."""
        return sum(self.dispatch_once(shard) for shard in range(self.shards))

    def tick(self, ms: int) -> list[Finished]:
        self.now_ms += ms
        evicted: list[Finished] = []
        for shard in range(self.shards):
            evicted += self.state.expire(shard, now_ms=self.now_ms, limit=10**6)
        return evicted

    def drain(self) -> None:
        """Dispatch until nothing is queued."""
        while self.dispatch_round():
            pass

    def outcomes(self) -> dict[str, list[Outcome]]:
        """Every outcome announced, per request id, in order."""
        seen: dict[str, list[Outcome]] = {}
        for done in self.state.published:
            seen.setdefault(done.request_id, []).append(done.outcome)
        return seen

    def queued_ids(self) -> list[str]:
        return [rid for rid, r in self.state.requests.items() if r.state == "queued"]
