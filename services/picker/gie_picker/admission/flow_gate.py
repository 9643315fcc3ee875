"""Admission under flow control (feature gate ``flowControl``).

A request goes straight to scheduling when the pool is not saturated and no
request of its priority band or a higher one is queued (both known from the
event stream: no extra hop). Otherwise the picker asks the flow-controller
(``FlowControl.Admit``) and waits: dispatched requests are scheduled,
rejected ones get 429, evicted or cancelled ones 503, as upstream.

The headers that name the request's flow (the fairness id, ``x-request-id``) are
checked first, fast path or not, so whether a request is accepted never depends on
the load: an unusable value (empty is the default, longer than 256 characters or
with control characters is unusable) is a 400 naming the header. A request the
flow-controller calls malformed (``INVALID_ARGUMENT``) is a 400 with its reason; a
flow-controller that cannot answer (unavailable, internal error, deadline) a 503, and
so is a queued request the flow state lost (Redis restarted without it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import structlog

from gie.flowcontrol import (
    FAIRNESS_ID_HEADER,
    AdmitRequest,
    BacklogView,
    FlowControlCallError,
    FlowControlClient,
    FlowControlStateLostError,
    FlowKey,
    InvalidAdmitRequestError,
    check_id,
)
from gie.saturation import SaturationConfig, pool_saturation
from gie.tokens import CHARS_PER_TOKEN
from gie.view import EndpointState
from gie_picker.requestcontrol.request import InferenceRequest, InvalidHeaderError, RequestError

_log = structlog.get_logger("gie.picker")


def flow_of(fairness_id: str, priority: int) -> FlowKey:
    """The request's flow; InvalidHeaderError (400) naming the fairness id header when
    its value is unusable as a flow-control id (the request id is checked by the
    director, with or without flow control). An empty fairness id is ``default-flow``."""
    if fairness_id:
        check_header(FAIRNESS_ID_HEADER, fairness_id)
    return FlowKey.of(fairness_id, priority)


def check_header(header: str, value: str) -> None:
    """InvalidHeaderError (400) naming ``header`` unless ``value`` is a usable id: 1 to 256
    printable characters (the request's id keys its in-flight count and its completion
    record; a flow's id keys its queue)."""
    try:
        check_id(value, what=header)
    except InvalidAdmitRequestError as exc:
        raise InvalidHeaderError(header, str(exc)) from exc


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
        the candidates' states have moved on meanwhile); RequestError (400/429/503)
        otherwise."""
        flow = flow_of(fairness_id, priority)
        if self.fast_path(candidates, priority):
            return False
        admit = AdmitRequest(
            request_id=request.request_id,
            flow=flow,
            byte_size=len(request.body),
            input_tokens=len(request.prompt) // CHARS_PER_TOKEN,
            candidates=tuple(state.address for state in candidates),
            objective=objective,
            pool=self._pool,
        )
        try:
            result = await self._client.admit(admit)
        except InvalidAdmitRequestError as exc:
            _log.warning(
                "flow-controller refused the request as malformed",
                request_id=request.request_id,
                error=str(exc),
            )
            raise RequestError(400, f"flow control refused the request: {exc}") from exc
        except FlowControlStateLostError as exc:
            _log.warning("flow control lost the request", request_id=request.request_id)
            raise RequestError(503, f"flow control lost the request: {exc}") from exc
        except FlowControlCallError as exc:
            _log.warning("flow-controller unavailable", error=str(exc))
            raise RequestError(503, f"flow control unavailable: {exc}") from exc
        if not result.dispatched:
            raise RequestError(
                result.outcome.http_status,
                f"flow control: {result.outcome.value} ({result.reason or 'no reason'})",
            )
        return True
