"""Decode a payload and hand it to a handler: the part every adapter shares."""

from __future__ import annotations

import inspect

import structlog

from gie.bus.contracts import EventHandler
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
    decoded: Event | None = None,
) -> None:
    """Decode ``payload`` (unless ``decoded`` is the event it encodes) and run
    ``handler`` on it; never raises for bad input."""
    if decoded is not None:
        event = decoded
    else:
        try:
            event = codec.decode(payload)
        except EventDecodeError as exc:
            metrics.invalid.labels(stream).inc()
            _log.warning("invalid event skipped", subject=subject, stream=stream, error=str(exc))
            return
    metrics.received_on(stream).inc()
    try:
        result = handler(event)
        if inspect.isawaitable(result):
            await result
    except Exception:  # a broken handler must not stop the subscription
        metrics.handler_errors.labels(stream).inc()
        _log.exception("event handler failed", subject=subject, type=event.type)
