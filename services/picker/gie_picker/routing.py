"""From a parsed request to a destination endpoint, and the fact that we chose it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from gie.bus import BackgroundPublisher
from gie.events import RequestRouted
from gie.events.subjects import routing_subject
from gie.view import PoolView
from gie_picker.request import InferenceRequest, RequestError
from gie_picker.scheduling import ShortestQueuePicker


class RoutingMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.routed = Counter(
            "gie_picker_requests_routed_total",
            "Requests routed, by destination endpoint.",
            ["endpoint"],
            registry=registry,
        )
        self.rejected = Counter(
            "gie_picker_requests_rejected_total",
            "Requests answered by the picker itself, by HTTP status.",
            ["status"],
            registry=registry,
        )


class Router:
    """Chooses the endpoint of each request from the pool view.

    MUST be called from the event loop that feeds the view.
    """

    def __init__(
        self,
        *,
        view: PoolView,
        picker: ShortestQueuePicker,
        publisher: BackgroundPublisher | None,
        source: str,
        metrics: RoutingMetrics,
    ) -> None:
        self._view = view
        self._picker = picker
        self._publisher = publisher
        self._source = source
        self.metrics = metrics

    def route(self, request: InferenceRequest) -> str:
        """Return the ``ip:port`` to send ``request`` to, or raise RequestError(503)."""
        chosen = self._picker.pick(self._view.endpoints())
        if chosen is None:
            raise RequestError(503, f"no endpoint available in pool {self._view.pool}")
        self.metrics.routed.labels(chosen.address).inc()
        if self._publisher is not None:
            event = RequestRouted(
                source=self._source,
                pool=self._view.pool,
                correlation_id=request.request_id,
                request_id=request.request_id,
                model=request.model,
                target=chosen.address,
                picker=self._source,
                prompt_bytes=len(request.body),
            )
            self._publisher.submit(routing_subject(self._view.pool, "routed"), event)
        return chosen.address
