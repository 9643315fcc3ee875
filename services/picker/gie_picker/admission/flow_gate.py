"""Admission under flow control (feature gate ``flowControl``).

A request goes straight to scheduling when the pool is not saturated and no
request of its priority band or a higher one is queued (both known from the
event stream: no extra hop). Otherwise the picker asks the flow-controller
(``FlowControl.Admit``) and waits: dispatched requests are scheduled,
rejected ones get 429, evicted or cancelled ones 503, as upstream.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import structlog

from gie.flowcontrol import (
    AdmitRequest,
    BacklogView,
    FlowControlCallError,
    FlowControlClient,
    FlowKey,
)
from gie.saturation import SaturationConfig, pool_saturation
from gie.tokens import CHARS_PER_TOKEN
from gie.view import EndpointState
from gie_picker.requestcontrol.request import InferenceRequest, RequestError

_log = structlog.get_logger("gie.picker")


class FlowGate:
    def __init__(
        self,
        *,
        client: FlowControlClient,
        backlog: BacklogView,
        saturation: SaturationConfig,
        pool: str,
        now: Callable[[], datetime],
    ) -> None:
        self._client = client
        self.backlog = backlog
        self._saturation = saturation
        self._pool = pool
        self._now = now

    def fast_path(self, candidates: Sequence[EndpointState], priority: int) -> bool:
        """True when the request may skip the flow-controller."""
        if self.backlog.waiting_at_or_above(priority):
            return False
        return not pool_saturation(candidates, now=self._now(), config=self._saturation).saturated

    async def admit(
        self,
        request: InferenceRequest,
        candidates: Sequence[EndpointState],
        *,
        priority: int,
        fairness_id: str,
        objective: str,
    ) -> bool:
        """Return once the request may proceed (True if it waited in flow control, so
        the candidates' states have moved on meanwhile); RequestError (429/503)
        otherwise."""
        if self.fast_path(candidates, priority):
            return False
        admit = AdmitRequest(
            request_id=request.request_id,
            flow=FlowKey.of(fairness_id, priority),
            byte_size=len(request.body),
            input_tokens=len(request.prompt) // CHARS_PER_TOKEN,
            candidates=tuple(state.address for state in candidates),
            objective=objective,
            pool=self._pool,
        )
        try:
            result = await self._client.admit(admit)
        except FlowControlCallError as exc:
            _log.warning("flow-controller unavailable", error=str(exc))
            raise RequestError(503, f"flow control unavailable: {exc}") from exc
        if not result.dispatched:
            raise RequestError(
                result.outcome.http_status,
                f"flow control: {result.outcome.value} ({result.reason or 'no reason'})",
            )
        return True
