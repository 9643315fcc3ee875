"""Completions: ``RequestCompleted`` events settle dispatched requests.

Every replica follows the completions and applies them; the flow state makes the step
idempotent, so the first replica's application counts and the others change nothing.
The usage corrects the flow's virtual token counter (estimate charged at dispatch).
"""

from __future__ import annotations

import structlog

from gie.clock import Clock
from gie.events import Event, RequestCompleted
from gie_flow_controller.errors import StoreError
from gie_flow_controller.state import FlowStore

_log = structlog.get_logger("gie.flow_controller.completions")


class Completions:
    def __init__(self, store: FlowStore, *, pool: str, clock: Clock) -> None:
        self._store = store
        self._pool = pool
        self._clock = clock
        self.applied = 0

    async def apply(self, event: Event) -> None:
        if not isinstance(event, RequestCompleted) or event.pool != self._pool:
            return
        try:
            settled = await self._store.complete(
                event.request_id,
                input_tokens=event.prompt_tokens,
                output_tokens=event.completion_tokens,
                now_ms=self._clock.now_ms(),
            )
        except StoreError as exc:
            _log.warning("completion not applied", request_id=event.request_id, error=str(exc))
            return
        if settled:
            self.applied += 1
