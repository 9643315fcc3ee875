"""FlowEvents: publishes the flow facts (queued, dispatched, rejected, evicted).

Each fact is published once, by the replica whose Lua step produced it, off the request
path (:class:`~gie.bus.BackgroundPublisher`). Event ids derive from the request id and the
kind, so the stream's duplicate window drops a re-publication.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from gie.bus import BackgroundPublisher
from gie.events import Event, RequestDispatched, RequestEvicted, RequestQueued, RequestRejected
from gie.events.subjects import flow_subject
from gie_flow_controller.model import Admission, Finished, Ticket
from gie_flow_controller.telemetry.metrics import FlowControlMetrics

_NAMESPACE = uuid.UUID("6f1c7a52-8f4e-4a57-9c55-2b0e1f0d6a31")


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class FlowEvents:
    """Builds flow events for one pool and hands them to the background publisher."""

    def __init__(
        self, publisher: BackgroundPublisher, *, pool: str, source: str, metrics: FlowControlMetrics
    ) -> None:
        self._publisher = publisher
        self._pool = pool
        self._source = source
        self._metrics = metrics

    def _envelope(self, kind: str, request_id: str, at_ms: int) -> dict[str, object]:
        return {
            "event_id": uuid.uuid5(_NAMESPACE, f"{self._pool}\n{request_id}\n{kind}").hex,
            "occurred_at": _at(at_ms),
            "source": self._source,
            "pool": self._pool,
            "correlation_id": request_id,
            "request_id": request_id,
        }

    def _submit(self, kind: str, event: Event) -> None:
        self._publisher.submit(flow_subject(self._pool, kind), event)

    def queued(self, ticket: Ticket, admission: Admission) -> None:
        event = RequestQueued.model_validate(
            {
                **self._envelope("queued", ticket.request_id, admission.enqueued_ms),
                "fairness_id": ticket.flow.fairness_id,
                "priority": ticket.flow.priority,
                "shard": admission.shard,
                "byte_size": ticket.byte_size,
                "input_tokens": ticket.input_tokens,
                "output_tokens": ticket.output_tokens,
                "expires_at": _at(ticket.expires_ms) if ticket.expires_ms else None,
            }
        )
        self._submit("queued", event)

    def dispatched(self, done: Finished, charge: float) -> None:
        self._metrics.count_outcome(done.flow.priority, done.outcome, done.reason)
        event = RequestDispatched.model_validate(
            {
                **self._envelope("dispatched", done.request_id, done.finished_ms),
                "fairness_id": done.flow.fairness_id,
                "priority": done.flow.priority,
                "shard": done.shard,
                "queued_s": done.queued_s,
                "charge": charge,
            }
        )
        self._submit("dispatched", event)

    def rejected(self, done: Finished, byte_size: int) -> None:
        self._metrics.count_outcome(done.flow.priority, done.outcome, done.reason)
        event = RequestRejected.model_validate(
            {
                **self._envelope("rejected", done.request_id, done.finished_ms),
                "fairness_id": done.flow.fairness_id,
                "priority": done.flow.priority,
                "byte_size": byte_size,
                "reason": done.reason,
            }
        )
        self._submit("rejected", event)

    def evicted(self, done: Finished) -> None:
        self._metrics.count_outcome(done.flow.priority, done.outcome, done.reason)
        event = RequestEvicted.model_validate(
            {
                **self._envelope("evicted", done.request_id, done.finished_ms),
                "fairness_id": done.flow.fairness_id,
                "priority": done.flow.priority,
                "shard": max(done.shard, 0),
                "queued_s": done.queued_s,
                "reason": done.reason,
                "outcome": done.outcome.value,
            }
        )
        self._submit("evicted", event)
