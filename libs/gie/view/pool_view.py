"""PoolView: the in-memory projection of one pool, folded from events.

It holds the pool's endpoints with their latest metrics, the pool's
InferenceObjectives with their priorities, and its InferenceModelRewrites.

``apply`` is a pure, deterministic fold step: two views that applied the same
events in the same order are equal, and so are their digests. Applying an
event twice changes nothing. Events of other pools and of types the view does
not project are ignored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from gie.events import (
    Endpoint,
    EndpointMetrics,
    EndpointMetricsObserved,
    EndpointRemoved,
    EndpointUpserted,
    Event,
    ModelRewriteRemoved,
    ModelRewriteUpserted,
    ObjectiveRemoved,
    ObjectiveUpserted,
)


@dataclass(frozen=True, slots=True)
class EndpointState:
    """What the view knows of one endpoint: membership plus its latest metrics."""

    endpoint: Endpoint
    metrics: EndpointMetrics | None = None
    scraped_at: datetime | None = None
    address: str = field(init=False, compare=False)  # the endpoint's, read on hot paths

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", self.endpoint.address)


@dataclass(frozen=True, slots=True)
class _Observation:
    scraped_at: datetime
    metrics: EndpointMetrics


class PoolView:
    """Endpoints of one pool and their latest metrics.

    Read it on the event loop that applies events, never from a worker thread:
    ``endpoints()`` fills a cache that ``apply`` clears, and a read racing an
    ``apply`` could store a list from before the event.
    """

    def __init__(self, pool: str) -> None:
        self.pool = pool
        self._endpoints: dict[str, Endpoint] = {}
        self._observations: dict[str, _Observation] = {}
        self._objectives: dict[str, int] = {}
        self._rewrites: dict[str, ModelRewriteUpserted] = {}
        self._applied = 0
        self._cached: list[EndpointState] | None = None  # endpoints(), until a change
        self._handlers: dict[type[Event], Callable[[Event], bool]] = {
            EndpointUpserted: self._on_upserted,  # type: ignore[dict-item]
            EndpointRemoved: self._on_removed,  # type: ignore[dict-item]
            EndpointMetricsObserved: self._on_metrics,  # type: ignore[dict-item]
            ObjectiveUpserted: self._on_objective,  # type: ignore[dict-item]
            ObjectiveRemoved: self._on_objective_removed,  # type: ignore[dict-item]
            ModelRewriteUpserted: self._on_rewrite,  # type: ignore[dict-item]
            ModelRewriteRemoved: self._on_rewrite_removed,  # type: ignore[dict-item]
        }

    # -- folding ---------------------------------------------------------
    def apply(self, event: Event) -> bool:
        """Fold one event in; return True when the view's content changed."""
        handler = self._handlers.get(type(event))
        if handler is None or event.pool != self.pool:
            return False
        self._applied += 1
        changed = handler(event)
        if changed:
            self._cached = None
        return changed

    def apply_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.apply(event)

    def _on_upserted(self, event: EndpointUpserted) -> bool:
        previous = self._endpoints.get(event.endpoint.address)
        self._endpoints[event.endpoint.address] = event.endpoint
        return previous != event.endpoint

    def _on_removed(self, event: EndpointRemoved) -> bool:
        removed = self._endpoints.pop(event.address, None)
        self._observations.pop(event.address, None)
        return removed is not None

    def _on_metrics(self, event: EndpointMetricsObserved) -> bool:
        if event.address not in self._endpoints:
            # Not in the pool (yet, or any more: a scrape finishing as its endpoint
            # leaves). Kept, it would outlive the endpoint and greet a new pod at the same
            # address with the old one's load; the next scrape of a member comes soon.
            return False
        # Newest scrape wins, whatever order observations arrive in.
        current = self._observations.get(event.address)
        if current is not None and current.scraped_at >= event.scraped_at:
            return False
        self._observations[event.address] = _Observation(event.scraped_at, event.metrics)
        return True

    def _on_objective(self, event: ObjectiveUpserted) -> bool:
        previous = self._objectives.get(event.name)
        self._objectives[event.name] = event.priority
        return previous != event.priority

    def _on_objective_removed(self, event: ObjectiveRemoved) -> bool:
        return self._objectives.pop(event.name, None) is not None

    def _on_rewrite(self, event: ModelRewriteUpserted) -> bool:
        previous = self._rewrites.get(event.name)
        self._rewrites[event.name] = event
        return previous is None or (previous.created, previous.rules) != (
            event.created,
            event.rules,
        )

    def _on_rewrite_removed(self, event: ModelRewriteRemoved) -> bool:
        return self._rewrites.pop(event.name, None) is not None

    # -- reading ---------------------------------------------------------
    @property
    def applied_events(self) -> int:
        """How many events of this pool were folded in (for diagnostics)."""
        return self._applied

    def endpoints(self) -> list[EndpointState]:
        """Every member endpoint, sorted by address (a fresh list; states are shared)."""
        if self._cached is None:
            self._cached = [self._state(address) for address in sorted(self._endpoints)]
        return list(self._cached)

    def get(self, address: str) -> EndpointState | None:
        return self._state(address) if address in self._endpoints else None

    def objectives(self) -> dict[str, int]:
        """InferenceObjective name -> priority."""
        return dict(self._objectives)

    def priority_of(self, objective: str) -> int:
        """Priority of an objective; unknown or unset objectives are 0, as upstream."""
        return self._objectives.get(objective, 0)

    def rewrites(self) -> list[ModelRewriteUpserted]:
        """The pool's InferenceModelRewrites, oldest first (ties by name)."""
        return sorted(self._rewrites.values(), key=lambda rewrite: (rewrite.created, rewrite.name))

    def __len__(self) -> int:
        return len(self._endpoints)

    def _state(self, address: str) -> EndpointState:
        observation = self._observations.get(address)
        if observation is None:
            return EndpointState(self._endpoints[address])
        return EndpointState(self._endpoints[address], observation.metrics, observation.scraped_at)

    def digest(self) -> str:
        """SHA-256 of the view's content: equal views have equal digests."""
        content = [
            {
                "endpoint": state.endpoint.model_dump(mode="json"),
                "metrics": state.metrics.model_dump(mode="json") if state.metrics else None,
                "scraped_at": state.scraped_at.isoformat() if state.scraped_at else None,
            }
            for state in self.endpoints()
        ]
        rewrites = {
            rewrite.name: {
                "created": rewrite.created.isoformat(),
                "rules": [rule.model_dump(mode="json") for rule in rewrite.rules],
            }
            for rewrite in self._rewrites.values()
        }
        blob = orjson.dumps(
            {
                "pool": self.pool,
                "endpoints": content,
                "objectives": self._objectives,
                "rewrites": rewrites,
            },
            option=orjson.OPT_SORT_KEYS,
        )
        return hashlib.sha256(blob).hexdigest()
