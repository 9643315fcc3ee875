"""Decode a payload and hand its events to a handler: the part every adapter shares."""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import structlog

from gie.bus.contracts import EventHandler
from gie.bus.lag import ConsumerPosition
from gie.bus.metrics import BusMetrics
from gie.events import Event, EventCodec, EventDecodeError

_log = structlog.get_logger("gie.bus")


async def deliver(
    payload: bytes,
    *,
    subject: str,
    stream: str,
    codec: EventCodec,
    handler: EventHandler,
    metrics: BusMetrics,
    decoded: Sequence[Event] | None = None,
    position: ConsumerPosition | None = None,
    pending: int = 0,
) -> None:
    """Decode ``payload`` (one event or a batch; unless ``decoded`` holds the events
    it encodes) and run ``handler`` on each event in order; never raises for bad
    input: an invalid event of a batch is logged and counted, the others delivered.
    ``position`` is moved to these events first (``pending`` messages behind them), so
    a handler that hangs shows as lag."""
    if decoded is not None:
        events = decoded
    else:
        try:
            batch = codec.decode_batch(payload)
        except EventDecodeError as exc:
            metrics.invalid.labels(stream).inc()
            _log.warning("invalid event skipped", subject=subject, stream=stream, error=str(exc))
            return
        for error in batch.errors:
            metrics.invalid.labels(stream).inc()
            _log.warning("invalid event skipped", subject=subject, stream=stream, error=str(error))
        events = batch.events
    if position is not None:
        position.delivered(events, pending)
    received = metrics.received_on(stream)
    for event in events:
        received.inc()
        try:
            result = handler(event)
            if result is not None and type(result) is not bool and inspect.isawaitable(result):
                await result
        except Exception:  # a broken handler must not stop the subscription
            metrics.handler_errors.labels(stream).inc()
            _log.exception("event handler failed", subject=subject, type=event.type)
