"""Admitter: one Admit call, from the request to its outcome.

Resolves the request's TTL (its objective's, else the default; bounded by the caller's
deadline), admits it into the flow state, publishes what happened (queued, rejected,
displaced), wakes the shard's worker, and waits for the outcome, whichever replica
decides it. Idempotent per request id: a repeated call attaches to the same request.
A call cancelled by its caller cancels the request if it is still queued (when the flow
state cannot be reached, that is logged and counted, and the request stays queued until
dispatched or evicted by its TTL); a call cut short because this replica drains does not
(the caller retries elsewhere).

A waiting call never outlives its request's TTL by more than ``NO_OUTCOME_GRACE_S``: the
TTL is enforced by the shard's owner in Redis, so while Redis is unreachable nothing
evicts the request; past that time the call cancels the request if it can and ends
with :class:`NoOutcomeError`. A queued request that Redis lost ends its call with
:class:`RequestLostError` (see :class:`OutcomeWaiters`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from gie.clock import Clock
from gie.flowcontrol import AdmitRequest, AdmitResult, FlowControlConfig
from gie_flow_controller.admission.waiters import OutcomeWaiters
from gie_flow_controller.errors import DrainingError, NoOutcomeError, StoreError
from gie_flow_controller.model import AdmitStatus, BandTable, Finished, Ticket
from gie_flow_controller.state import FlowStore
from gie_flow_controller.telemetry import FlowControlMetrics, FlowEvents

_log = structlog.get_logger("gie.flow_controller.admission")

# Past a request's TTL, the time its call still waits for the owner's eviction.
NO_OUTCOME_GRACE_S = 2.0


class Admitter:
    def __init__(
        self,
        *,
        store: FlowStore,
        config: FlowControlConfig,
        bands: BandTable,
        waiters: OutcomeWaiters,
        events: FlowEvents,
        metrics: FlowControlMetrics,
        clock: Clock,
        replica: str,
        wake: Callable[[int], None],
    ) -> None:
        self._store = store
        self._config = config
        self._bands = bands
        self._waiters = waiters
        self._events = events
        self._metrics = metrics
        self._clock = clock
        self._replica = replica
        self._wake = wake
        self._draining = False

    def ticket(self, request: AdmitRequest, *, deadline_ms: int | None, now_ms: int) -> Ticket:
        ttl_s = self._config.request_ttl_s(request.objective)
        bounds = [now_ms + round(ttl_s * 1000)] if ttl_s > 0 else []
        if request.deadline is not None:
            bounds.append(round(request.deadline.timestamp() * 1000))
        if deadline_ms is not None:
            bounds.append(deadline_ms)
        return Ticket(
            request_id=request.request_id,
            flow=request.flow,
            byte_size=request.byte_size,
            input_tokens=request.input_tokens,
            output_tokens=request.output_tokens,
            expires_ms=max(min(bounds), 1) if bounds else 0,
            candidates=request.candidates,
            objective=request.objective,
        )

    async def admit(self, request: AdmitRequest, *, deadline_ms: int | None = None) -> AdmitResult:
        """The request's outcome. Raises StoreError (state unreachable), DrainingError,
        RequestLostError or NoOutcomeError."""
        if self._draining:
            raise DrainingError("this flow-controller replica is shutting down")
        started = self._clock.monotonic()
        now_ms = self._clock.now_ms()
        ticket = self.ticket(request, deadline_ms=deadline_ms, now_ms=now_ms)
        future = self._waiters.expect(request.request_id)
        try:
            done = await self._admit_and_wait(ticket, future, now_ms)
        except asyncio.CancelledError:
            if not self._draining:
                await asyncio.shield(self._cancel(request))
            raise
        finally:
            self._waiters.forget(request.request_id, future)
        self._metrics.observe_call(
            request.flow.fairness_id,
            request.flow.priority,
            done.outcome,
            self._clock.monotonic() - started,
        )
        return AdmitResult(done.outcome, done.reason, done.queued_s, self._replica)

    async def _admit_and_wait(
        self, ticket: Ticket, future: asyncio.Future[Finished], now_ms: int
    ) -> Finished:
        limits = self._bands.limits(ticket.flow.priority)
        admission = await self._store.admit(
            ticket, limits, shards=self._config.shard_count, now_ms=now_ms
        )
        for victim in admission.displaced:
            self._events.evicted(victim)
        if admission.status is AdmitStatus.REJECTED and admission.finished is not None:
            self._events.rejected(admission.finished, ticket.byte_size)
        if admission.finished is not None:
            return admission.finished
        self._waiters.queued(ticket.request_id)
        if admission.status is AdmitStatus.QUEUED:
            self._events.queued(ticket, admission)
            self._wake(admission.shard)
        if ticket.expires_ms <= 0:
            return await future
        wait_s = (ticket.expires_ms - now_ms) / 1000 + NO_OUTCOME_GRACE_S
        try:
            async with asyncio.timeout(max(wait_s, 0.0)):
                return await asyncio.shield(future)
        except TimeoutError:
            pass
        return await self._past_ttl(ticket)

    async def _past_ttl(self, ticket: Ticket) -> Finished:
        """The TTL passed without an outcome: cancel the request (so it is not
        dispatched to a caller that is gone) or read its outcome; NoOutcomeError when
        neither works."""
        now_ms = self._clock.now_ms()
        try:
            done = await self._store.cancel(ticket.request_id, now_ms=now_ms)
            if done is not None:
                self._events.evicted(done)
                return done
            found = await self._store.outcomes([ticket.request_id])
        except StoreError as exc:
            found, error = {}, str(exc)
        else:
            error = "no outcome recorded"
        if ticket.request_id in found:
            return found[ticket.request_id]
        self._metrics.count_admit_error("no-outcome-by-ttl")
        raise NoOutcomeError(
            f"request {ticket.request_id} had no outcome {NO_OUTCOME_GRACE_S:g}s past its TTL "
            f"({error})"
        )

    async def _cancel(self, request: AdmitRequest) -> None:
        try:
            done = await self._store.cancel(request.request_id, now_ms=self._clock.now_ms())
        except StoreError as exc:  # it stays queued: dispatched, or evicted by its TTL
            _log.warning(
                "cancelling a request failed",
                request_id=request.request_id,
                fairness_id=request.flow.fairness_id,
                priority=request.flow.priority,
                error=str(exc),
            )
            self._metrics.cancel_failures.inc()
            return
        if done is not None:
            self._events.evicted(done)

    def drain(self) -> None:
        """Answer no more calls; wake the waiting ones with DrainingError."""
        self._draining = True
        self._waiters.fail_all(DrainingError("this flow-controller replica is shutting down"))
