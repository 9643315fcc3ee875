"""Prometheus counters of the bus adapters, and their consumers' lag (:mod:`gie.bus.lag`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from gie.bus.lag import ConsumerLag
from gie.telemetry.loop_metrics import CounterChild, LoopCounter


class BusMetrics:
    """Counters every bus adapter updates; one instance per service registry.

    Lock-free (:mod:`gie.telemetry.loop_metrics`): MUST be updated from the
    service's event loop, where the bus adapters run.

    ``received_on`` and ``published_of`` hand out children looked up once: they are
    counted for every event, and ``labels()`` costs microseconds each time.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.received = LoopCounter(
            "gie_bus_events_received_total",
            "Events delivered to handlers, by stream.",
            ["stream"],
            registry=registry,
        )
        self.invalid = LoopCounter(
            "gie_bus_events_invalid_total",
            "Payloads, or events of a batch, that were not valid events and were skipped, "
            "by stream.",
            ["stream"],
            registry=registry,
        )
        self.handler_errors = LoopCounter(
            "gie_bus_handler_errors_total",
            "Events whose handler raised, by stream.",
            ["stream"],
            registry=registry,
        )
        self.published = LoopCounter(
            "gie_bus_events_published_total",
            "Events stored by the bus, by event type.",
            ["type"],
            registry=registry,
        )
        self.publish_errors = LoopCounter(
            "gie_bus_publish_errors_total",
            "Events the bus did not acknowledge, by event type.",
            ["type"],
            registry=registry,
        )
        self.dropped = LoopCounter(
            "gie_bus_events_dropped_total",
            "Events dropped before publishing because the outbound queue was full.",
            ["type"],
            registry=registry,
        )
        self.following_restarts = LoopCounter(
            "gie_bus_following_restarts_total",
            "Event stream consumers found gone and re-created from the last applied "
            "sequence, by stream.",
            ["stream"],
            registry=registry,
        )
        self.permission_denied = LoopCounter(
            "gie_bus_permission_denied_total",
            "Publishes and subscriptions the NATS server refused as outside this "
            "service's permissions, by operation (publish, subscribe).",
            ["operation"],
            registry=registry,
        )
        self.auth_failures = LoopCounter(
            "gie_bus_auth_failures_total",
            "Connection attempts whose credentials the NATS server refused.",
            registry=registry,
        )
        self.lag = ConsumerLag(registry)
        self._received: dict[str, CounterChild] = {}
        self._published: dict[str, CounterChild] = {}

    def received_on(self, stream: str) -> CounterChild:
        child = self._received.get(stream)
        if child is None:
            child = self._received[stream] = self.received.labels(stream)
        return child

    def published_of(self, event_type: str) -> CounterChild:
        child = self._published.get(event_type)
        if child is None:
            child = self._published[event_type] = self.published.labels(event_type)
        return child
