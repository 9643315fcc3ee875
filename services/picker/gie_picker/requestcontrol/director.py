"""Admission and routing of one request, and the facts published about it.

The director is the picker's request controller: candidates from the view
(narrowed by the gateway's subset hint), admission (sheddable requests are
rejected while the pool is saturated), scheduling, then ``RequestRouted``; on
the response path, ``RequestCompleted`` with the usage the server reported.
Both are handed to ``fold_own`` at once, before the stream brings them back:
projections that count requests in flight see this replica's decisions without
waiting for the publisher's batch. MUST be called from the event loop that feeds the view.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import structlog

from gie.bus import BackgroundPublisher
from gie.epp_protocol import REQUEST_ID_HEADER
from gie.events import Event, RequestCompleted, RequestRouted
from gie.events.hashes import pack_hashes
from gie.events.subjects import routing_subject
from gie.saturation import SaturationConfig, is_stale, pool_saturation
from gie.view import EndpointState, PoolView
from gie_picker.admission.flow_gate import FlowGate, check_header
from gie_picker.admission.saturation_fallback import inflight_saturation
from gie_picker.health import EndpointHealth
from gie_picker.prefixcache.state import PrefixCacheState
from gie_picker.projections.routing_memory import RoutingMemory
from gie_picker.requestcontrol.model_rewrite import ModelRewrites
from gie_picker.requestcontrol.request import InferenceRequest, InvalidHeaderError, RequestError
from gie_picker.requestcontrol.usage import Usage
from gie_picker.scheduling.contracts import InFlightCounts
from gie_picker.telemetry.metrics import MODEL_SERVER_ERROR, PickerMetrics, picker_error_code

_log = structlog.get_logger("gie.picker")


class EndpointScheduler(Protocol):
    def schedule(
        self, request: InferenceRequest, candidates: Sequence[EndpointState], *, priority: int
    ) -> tuple[str, ...]:
        """Endpoints for the request, primary first; RequestError(503) when none fits."""


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    request: InferenceRequest
    endpoints: tuple[str, ...]

    @property
    def destination(self) -> str:
        """The header / metadata value: primary first, then fallbacks."""
        return ",".join(self.endpoints)


class Director:
    def __init__(
        self,
        *,
        view: PoolView,
        scheduler: EndpointScheduler,
        saturation: SaturationConfig,
        publisher: BackgroundPublisher | None,
        metrics: PickerMetrics,
        source: str,
        now: Callable[[], datetime],
        prefix_cache: PrefixCacheState | None = None,
        routing: RoutingMemory | None = None,
        inflight: InFlightCounts | None = None,
        flow_gate: FlowGate | None = None,
        settle_events: Callable[[], Awaitable[None]] | None = None,
        fold_own: Callable[[Event], object] | None = None,
        model_rewrites: ModelRewrites | None = None,
        health: EndpointHealth | None = None,
    ) -> None:
        self._view = view
        self._scheduler = scheduler
        self._saturation = saturation
        self._publisher = publisher
        self.metrics = metrics
        self._source = source
        self._now = now
        self._prefix_cache = prefix_cache
        self._routing = routing
        self._inflight = inflight
        self._flow_gate = flow_gate
        self._settle_events = settle_events
        self._fold_own = fold_own
        self._health = health
        # The pool's InferenceModelRewrites: the request stream asks it for a
        # request's target model as it parses the body.
        self.rewrite_for: Callable[[str], str | None] | None = (
            model_rewrites.target_for if model_rewrites is not None else None
        )
        self._routed_subject = routing_subject(view.pool, "routed")
        self._completed_subject = routing_subject(view.pool, "completed")
        # publisher_seq of this replica's routing events: one sequence per type.
        self._routed_seq = itertools.count(1)
        self._completed_seq = itertools.count(1)

    async def route(
        self,
        request: InferenceRequest,
        *,
        subset: tuple[str, ...] | None,
        objective: str,
        fairness_id: str = "",
    ) -> RoutingDecision:
        """Admit and schedule ``request``, or raise RequestError (429/503)."""
        if self._settle_events is not None:
            await self._settle_events()  # decide on every event that has arrived
        self.metrics.received(request.model, request.target_model)
        check_header(REQUEST_ID_HEADER, request.request_id)  # with or without flow control
        candidates = self._view.endpoints()
        if subset is not None:
            allowed = set(subset)
            candidates = [c for c in candidates if c.address in allowed]
            if not candidates:
                raise RequestError(503, "no endpoint of the pool is in the gateway's subset hint")
        if not candidates:
            raise RequestError(503, f"no endpoint available in pool {self._view.pool}")
        if self._health is not None:  # failed servers are left out while others serve
            candidates = self._health.usable(candidates, self._now())
        priority = self._view.priority_of(objective) if objective else 0
        if self._flow_gate is not None:
            waited = await self._flow_gate.admit(
                request,
                candidates,
                priority=priority,
                fairness_id=fairness_id,
                objective=objective,
            )
            if waited:  # schedule on what the endpoints look like now, not at arrival
                candidates = self._current(candidates)
        elif priority < 0:
            self._shed_if_saturated(candidates, objective)
        endpoints = self._scheduler.schedule(request, candidates, priority=priority)
        prefix = (
            self._prefix_cache.routed(request.request_id, endpoints[0])
            if self._prefix_cache is not None
            else None
        )
        session = (
            self._routing.routed(request.request_id, endpoints[0])
            if self._routing is not None
            else None
        )
        self.metrics.routed_to(endpoints[0]).inc()
        self.metrics.for_model(request.model, request.target_model).running.inc()
        self._publish(
            self._routed_subject,
            # Built from validated parts (the request's id and model, addresses of the
            # view, counts and hashes computed here): no second validation per request.
            RequestRouted.trusted(
                source=self._source,
                pool=self._view.pool,
                correlation_id=request.request_id,
                request_id=request.request_id,
                model=request.target_model,
                target=endpoints[0],
                fallbacks=endpoints[1:],
                picker=self._source,
                prompt_bytes=len(request.body),
                block_hashes=pack_hashes(prefix.hashes) if prefix else "",
                prefix_capacity=prefix.capacity if prefix else None,
                session=session,
                publisher_seq=next(self._routed_seq),
            ),
            request.headers.get("traceparent"),
        )
        return RoutingDecision(request, endpoints)

    def _current(self, candidates: list[EndpointState]) -> list[EndpointState]:
        fresh = [self._view.get(state.address) for state in candidates]
        current = [state for state in fresh if state is not None]
        if not current:
            raise RequestError(503, "every candidate endpoint left the pool while queued")
        return current

    def _shed_if_saturated(self, candidates: list[EndpointState], objective: str) -> None:
        now = self._now()
        saturation = pool_saturation(candidates, now=now, config=self._saturation)
        if not saturation.saturated:
            return
        if self._inflight is not None and all(
            is_stale(state, now=now, config=self._saturation) for state in candidates
        ):
            # No load signal at all: unknown is not full. Judge by requests in flight.
            self.metrics.stale_fallback.inc()
            saturation = inflight_saturation(candidates, self._inflight, self._saturation)
            if not saturation.saturated:
                return
        raise RequestError(
            429, f"pool saturated, sheddable objective {objective!r} shed: {saturation.reason}"
        )

    def rejected(self, request: InferenceRequest | None, error: RequestError) -> None:
        self.metrics.rejected.labels(str(error.status)).inc()
        if isinstance(error, InvalidHeaderError):
            self.metrics.invalid_headers.labels(error.header).inc()
            _log.warning(
                "request refused: unusable header", header=error.header, error=error.message
            )
        if request is not None and self._prefix_cache is not None:
            self._prefix_cache.discard(request.request_id)
        if request is not None and self._routing is not None:
            self._routing.discard(request.request_id)
        if request is not None:
            code = picker_error_code(error.status)
            labels = self.metrics.model_labels(request.model, request.target_model)
            self.metrics.errors.labels(*labels, code).inc()

    def completed(
        self,
        decision: RoutingDecision,
        *,
        served: str,
        status: int,
        usage: Usage | None,
        duration_s: float,
    ) -> None:
        """Record the end of a routed request (``served`` may be a fallback).

        ``status`` is 0 (none) or an HTTP status up to 999 and ``duration_s`` is not
        negative: the event is built from them without a second validation.
        """
        request = decision.request
        self.request_completed(
            request.request_id,
            model=request.model,
            target_model=request.target_model,
            served=served,
            status=status,
            usage=usage,
            duration_s=duration_s,
            traceparent=request.headers.get("traceparent"),
        )

    def request_completed(
        self,
        request_id: str,
        *,
        model: str,
        target_model: str,
        served: str,
        status: int,
        usage: Usage | None,
        duration_s: float,
        traceparent: str | None = None,
    ) -> None:
        """Record the end of a request routed by any process of this picker.

        What :meth:`completed` does, from the request's names alone: a completion
        record from the gateway may reach another worker than the one that routed it.
        ``traceparent`` is the request's trace context, when known.
        """
        if not 0 <= status <= 999 or duration_s < 0:
            raise ValueError(f"status {status} / duration {duration_s} s out of range")
        model_metrics = self.metrics.for_model(model, target_model)
        model_metrics.running.dec()
        model_metrics.duration.observe(duration_s)
        if status >= 400:
            self.metrics.errors.labels(*model_metrics.labels, MODEL_SERVER_ERROR).inc()
        if usage is not None and usage.prompt_tokens is not None:
            model_metrics.input_tokens.observe(usage.prompt_tokens)
        if usage is not None and usage.completion_tokens is not None:
            model_metrics.output_tokens.observe(usage.completion_tokens)
        self._publish(
            self._completed_subject,
            RequestCompleted.trusted(  # as RequestRouted; status and usage checked upstream
                source=self._source,
                pool=self._view.pool,
                correlation_id=request_id,
                request_id=request_id,
                target=served,
                picker=self._source,
                status=status,
                prompt_tokens=usage.prompt_tokens if usage else None,
                completion_tokens=usage.completion_tokens if usage else None,
                cached_tokens=usage.cached_tokens if usage else None,
                duration_s=duration_s,
                publisher_seq=next(self._completed_seq),
            ),
            traceparent,
        )

    def _publish(
        self, subject: str, event: RequestRouted | RequestCompleted, traceparent: str | None
    ) -> None:
        if self._fold_own is not None:
            self._fold_own(event)
        if self._publisher is not None:
            # The request's own trace context, if it came with one (the bus checks its form).
            self._publisher.submit(subject, event, traceparent=traceparent)
