"""The picker's prefix cache: the shared index plus this replica's recent decisions.

The canonical :class:`~gie.prefix.PrefixIndex` is folded only from
``RequestRouted`` events as the stream delivers them (this replica's own
included), so every replica holds the same index. A decision this replica made
is also kept in a small *pending* overlay until its event comes back, so a
burst of requests sharing a prefix sees the affinity at once instead of after
the bus round trip. The overlay is local and never part of the digest.

The *precise* index (:class:`~gie.prefix.PreciseIndex`) is folded from the
model servers' own KV events (``Kv*``, republished by the metrics-collector)
and answers ``precise-prefix-cache-scorer``.

Flow for one request: the scorer calls :meth:`prepare` (hashes) and
:meth:`match`; the director calls :meth:`routed` with the target, which yields
the hashes and capacity to publish. One event loop owns this object.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

from gie.events import Event, RequestRouted
from gie.prefix import PreciseIndex, PrefixIndex, leading_matches
from gie.telemetry.loop_metrics import LoopHistogram
from gie.view import PoolView
from gie_picker.scheduling.contracts import PreparedPrefix

_MAX_PENDING = 10_000
_PENDING_TTL_S = 30.0
_MAX_RECENT = 1_000  # this replica's latest decisions, for the precise scorer
# An endpoint out of the pool this long loses its precise state (memory: pods come and
# go). Sooner would forget a server that only dropped out of readiness for a while: its
# collector resumes its run without restating it, so it would stay unknown.
PRECISE_FORGET_AFTER_S = 600.0
_SWEEP_EVERY_S = 10.0


@dataclass(frozen=True, slots=True)
class Routed:
    hashes: tuple[int, ...]
    capacity: int


@dataclass(frozen=True, slots=True)
class _Pending:
    target: str
    hashes: tuple[int, ...]
    at: float


class PrefixCacheState:
    def __init__(self, view: PoolView, *, registry: CollectorRegistry | None = None) -> None:
        self._view = view
        self.index = PrefixIndex()
        self.precise = PreciseIndex(view.pool)
        self._prepared: OrderedDict[str, PreparedPrefix] = OrderedDict()
        self._pending: OrderedDict[str, _Pending] = OrderedDict()
        # hash -> target -> how many pending decisions hold it (the overlay's index)
        self._pending_holders: dict[int, dict[str, int]] = {}
        # This replica's latest decisions, newest last, kept whatever the stream says:
        # the precise scorer counts them until the servers' KV events can show them.
        self._recent: deque[_Pending] = deque()
        # hash -> target -> when the latest of those decisions holding it was made
        self._recent_at: dict[int, dict[str, float]] = {}
        self._gone: dict[str, float] = {}  # endpoints out of the pool -> since when
        self._swept = 0.0
        self._size = Gauge(
            "inference_extension_prefix_indexer_size",
            "Block hashes held by the prefix index, over all endpoints.",
            registry=registry,
        )
        self._size.set_function(lambda: self.index.size)
        self._precise_size = Gauge(
            "gie_prefix_precise_index_blocks",
            "Block keys the precise index holds (from the servers' KV events), all endpoints.",
            registry=registry,
        )
        self._precise_size.set_function(lambda: self.precise.size)
        self._precise_known = Gauge(
            "gie_prefix_precise_known_endpoints",
            "Endpoints whose cache contents are known from their KV events.",
            registry=registry,
        )
        self._precise_known.set_function(lambda: self.precise.known_endpoints)
        self._untokenized = Counter(
            "gie_prefix_precise_untokenized_total",
            "Prompts the precise scorer's tokenizer refused (scored approximately), by tokenizer.",
            ["tokenizer"],
            registry=registry,
        )
        self._hit_ratio = LoopHistogram(
            "inference_extension_prefix_indexer_hit_ratio",
            "Share of a routed prompt's blocks found on the chosen endpoint.",
            buckets=(0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0),
            registry=registry,
        )

    # -- fold (from the stream) --------------------------------------------
    def apply(self, event: Event) -> bool:
        if not isinstance(event, RequestRouted) or event.pool != self._view.pool:
            return False
        self._forget_pending(event.request_id)
        if not event.block_hashes or event.prefix_capacity is None:
            return False
        self.index.add(event.hashes, event.target, capacity=event.prefix_capacity)
        return True

    def forget_endpoint(self, address: str) -> None:
        """An endpoint left the pool: what it was thought to cache goes too (a new pod
        at the same address starts cold, and removed endpoints do not pile up)."""
        self.index.remove_endpoint(address)
        for request_id in [rid for rid, p in self._pending.items() if p.target == address]:
            self._forget_pending(request_id)
        self._gone.setdefault(address, time.monotonic())
        kept = [decision for decision in self._recent if decision.target != address]
        if len(kept) != len(self._recent):
            self._recent.clear()
            self._recent_at.clear()
            for decision in kept:
                self._remember(decision)

    def endpoint_back(self, address: str) -> None:
        """An endpoint is in the pool (again): its precise state stays."""
        self._gone.pop(address, None)

    def apply_kv(self, event: Event) -> bool:
        """A model server's cache change (``Kv*`` events) into the precise index."""
        changed = self.precise.apply(event)
        if self._gone:
            now = time.monotonic()
            if now - self._swept >= _SWEEP_EVERY_S:
                self._swept = now
                self._forget_gone(now)
        return changed

    def _forget_gone(self, now: float) -> None:
        for address, since in list(self._gone.items()):
            if now - since >= PRECISE_FORGET_AFTER_S:
                self.precise.remove(address)
                del self._gone[address]

    # -- precise lookups (PreciseLookup) --------------------------------------
    def precise_known(self, address: str) -> bool:
        return self.precise.is_known(address)

    def precise_block_size(self, address: str) -> int | None:
        state = self.precise.get(address)
        return state.block_size if state is not None else None

    def precise_match(self, keys: Sequence[int], addresses: Sequence[str]) -> dict[str, int]:
        return self.precise.match(keys, addresses)

    def precise_untokenized(self, tokenizer: str) -> None:
        self._untokenized.labels(tokenizer).inc()

    def recent_share(self, request_id: str, within_s: float) -> dict[str, float]:
        """Per target, the share of the request's prepared blocks that a decision of this
        replica in the last ``within_s`` seconds sent there (consecutive leading blocks)."""
        prepared = self._prepared.get(request_id)
        if prepared is None or not prepared.hashes or within_s <= 0:
            return {}
        hashes = prepared.hashes
        horizon = time.monotonic() - within_s
        found: dict[str, int] = {}
        recent_at = self._recent_at
        # Block hashes are chained: a decision holding the request's block i held its
        # blocks before i too, so the walk stops at the first block no recent one holds.
        for position, block in enumerate(hashes, start=1):
            targets = recent_at.get(block)
            if targets is None:
                break
            live = False
            for target, at in targets.items():
                if at >= horizon:
                    found[target] = position
                    live = True
            if not live:
                break
        return {target: shared / len(hashes) for target, shared in found.items()}

    # -- per request -------------------------------------------------------
    def prepare(self, request_id: str, prepared: PreparedPrefix) -> None:
        self._prepared[request_id] = prepared
        while len(self._prepared) > _MAX_PENDING:
            self._prepared.popitem(last=False)

    def prepared_hashes(self, request_id: str) -> tuple[int, ...] | None:
        prepared = self._prepared.get(request_id)
        return prepared.hashes if prepared is not None else None

    def match(self, hashes: Sequence[int]) -> dict[str, int]:
        """Consecutive leading blocks per endpoint: the index and pending decisions."""
        matched = self.index.match(hashes)
        self._expire_pending()
        for target, length in leading_matches(hashes, self._pending_holders).items():
            if length > matched.get(target, 0):
                matched[target] = length
        return matched

    def routed(self, request_id: str, target: str) -> Routed | None:
        """What to publish for a request sent to ``target`` (None: nothing hashed)."""
        prepared = self._prepared.pop(request_id, None)
        if prepared is None or not prepared.hashes:
            return None
        capacity = prepared.default_capacity
        state = self._view.get(target)
        if prepared.auto_tune and state and state.metrics and state.metrics.kv_num_blocks:
            capacity = state.metrics.kv_num_blocks
        matched = prepared.matched
        if matched is None:
            matched = self.match(prepared.hashes)
        self._hit_ratio.observe(matched.get(target, 0) / len(prepared.hashes))
        self._forget_pending(request_id)
        decision = _Pending(target, prepared.hashes, time.monotonic())
        self._pending[request_id] = decision
        self._remember(decision)
        holders_of = self._pending_holders
        for block in prepared.hashes:
            holders = holders_of.get(block)
            if holders is None:
                holders_of[block] = {target: 1}
            else:
                holders[target] = holders.get(target, 0) + 1
        while len(self._pending) > _MAX_PENDING:
            self._forget_pending(next(iter(self._pending)))
        return Routed(prepared.hashes, capacity)

    def _remember(self, decision: _Pending) -> None:
        """Into the recent decisions, the oldest leaving beyond ``_MAX_RECENT``."""
        if len(self._recent) >= _MAX_RECENT:
            oldest = self._recent.popleft()
            for block in oldest.hashes:
                targets = self._recent_at.get(block)
                # Only when no later decision to the same target holds it too.
                if targets is not None and targets.get(oldest.target) == oldest.at:
                    del targets[oldest.target]
                    if not targets:
                        del self._recent_at[block]
        self._recent.append(decision)
        for block in decision.hashes:
            targets = self._recent_at.get(block)
            if targets is None:
                self._recent_at[block] = {decision.target: decision.at}
            else:
                targets[decision.target] = decision.at

    def discard(self, request_id: str) -> None:
        """The request was not routed: forget what was prepared for it."""
        self._prepared.pop(request_id, None)

    def _forget_pending(self, request_id: str) -> None:
        pending = self._pending.pop(request_id, None)
        if pending is None:
            return
        for block in pending.hashes:
            holders = self._pending_holders.get(block)
            if holders is None:
                continue
            remaining = holders.get(pending.target, 0) - 1
            if remaining > 0:
                holders[pending.target] = remaining
            else:
                holders.pop(pending.target, None)
                if not holders:
                    del self._pending_holders[block]

    def _expire_pending(self) -> None:
        horizon = time.monotonic() - _PENDING_TTL_S
        while self._pending:
            request_id, oldest = next(iter(self._pending.items()))
            if oldest.at >= horizon:
                break
            self._forget_pending(request_id)
