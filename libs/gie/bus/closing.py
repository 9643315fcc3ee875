"""Closing a NATS connection at shutdown, whatever state the server is in."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from nats.aio.client import Client
from nats.errors import Error as NatsError

_log = structlog.get_logger("gie.bus")


async def drain_or_close(nc: Client | None, *, timeout_s: float = 5.0) -> None:
    """Drain ``nc`` (pending publishes are flushed, subscriptions end cleanly); when the
    server cannot be reached (down, or the client is reconnecting), close it without
    waiting. Never raises: a service stopping while NATS is down must stop cleanly."""
    if nc is None or nc.is_closed:
        return
    try:
        await asyncio.wait_for(nc.drain(), timeout=timeout_s)
    except (NatsError, TimeoutError, OSError) as exc:  # OSError: the connection was lost
        _log.warning("NATS drain failed; closing", error=repr(exc))
        with contextlib.suppress(NatsError, TimeoutError, OSError):
            await nc.close()
