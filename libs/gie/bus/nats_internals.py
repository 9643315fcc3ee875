"""The few places where the NATS adapter reaches into nats-py's private state.

Each saves task hops or timer wake-ups on the picker's hot path, and each checks
that the state looks as expected first and otherwise does nothing (returns
False or None), leaving nats-py's public path to do the work:

* :func:`write_unconfirmed` hands an unacknowledged publish to the socket at once
  when nothing is waiting ahead of it (no flusher wake-up, no task step: at low
  rates each event batch costs one write), else puts it into the connection's
  write buffer and wakes its flusher, as ``Client.publish`` does, without the
  coroutines and the hand-over task around it;
* :func:`quiet_flow_control` stops the task nats-py runs per ordered consumer to
  answer flow-control requests (it polls four times a second, forever);
  :func:`answer_flow_control` gives the same answer right after each delivered
  message instead, and a stalled consumer is still revived by nats-py itself from
  the next idle heartbeat;
* :mod:`gie.bus.lazy_headers` leaves the header block of a delivered message
  unparsed until something reads it (the bus's followers never do);
* :func:`reading_transport` finds the TCP transport whose reading the read gate
  pauses (under asyncio's TLS transport when the connection is TLS), and
  :func:`hand_reading_to_gate` widens the buffer of nats-py's stream reader so that
  the reader's own flow control (it pauses the socket above twice its limit, 32 KiB,
  and resumes it once drained) never resumes reading that the gate has paused: after
  any burst above 64 KiB every event would otherwise be
  read, one wake-up each, until the gate's next read.

:func:`moved_internals` lists what of this is not where these functions expect it
in the installed nats-py: the bus logs it once per connection, and a test names
it when a new nats-py release moves one (the upper bound on nats-py in
``pyproject.toml`` is raised only once that test passes on the new release).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
from typing import Any

from nats.aio.client import Client as NatsClient

from gie.bus.lazy_headers import moved_header_internals

_CRLF = b"\r\n"
# Buffered bytes above which a gated connection's reader still pauses the socket
# (at twice this), so a reader that cannot keep up stays bounded in memory.
GATED_READER_LIMIT = 8 * 1024 * 1024


_CLIENT_INTERNALS: tuple[tuple[str, type | tuple[type, ...]], ...] = (
    ("_pending", list),
    ("_pending_data_size", int),
    ("_max_pending_size", int),
    ("_flush_queue", asyncio.Queue),
    ("_flusher_task", asyncio.Task),
    ("stats", dict),
)
_CONSUMER_INTERNALS = ("_fctask", "_fcr", "_fciseq", "_fcd")


def moved_internals(nc: NatsClient, sub: object | None = None) -> list[str]:
    """The private nats-py state this module uses that the connected client ``nc``
    (and the ordered consumer's subscription ``sub``, when given) do not hold in the
    expected shape, named as ``Client._pending``; empty when all is in place."""
    moved = [
        f"Client.{name}"
        for name, kind in _CLIENT_INTERNALS
        if not isinstance(getattr(nc, name, None), kind)
    ]
    transport = getattr(nc, "_transport", None)
    writer = getattr(transport, "_io_writer", None)
    if not isinstance(getattr(writer, "transport", None), asyncio.BaseTransport):
        moved.append("Client._transport._io_writer.transport")
    under = getattr(writer, "transport", None)
    tls = isinstance(under, asyncio.BaseTransport) and under.get_extra_info("sslcontext")
    if tls and reading_transport(nc) is None:
        moved.append("asyncio TLS transport._ssl_protocol._transport")
    reader = getattr(transport, "_io_reader", None)
    if not isinstance(getattr(reader, "_limit", None), int):
        moved.append("Client._transport._io_reader._limit")
    moved.extend(moved_header_internals(nc))
    if sub is not None:
        core = getattr(sub, "_sub", None)
        if not isinstance(getattr(core, "_pending_queue", None), asyncio.Queue):
            moved.append("PushSubscription._sub._pending_queue")
        state = _consumer_state(sub)
        moved.extend(
            f"PushSubscription._sub._jsi.{name}"
            for name in _CONSUMER_INTERNALS
            if not hasattr(state, name)
        )
    return moved


def nats_py_version() -> str:
    """The installed nats-py release."""
    return importlib.metadata.version("nats-py")


def write_unconfirmed(nc: NatsClient, subject: str, payload: bytes, headers: bytes = b"") -> bool:
    """Queue ``PUB subject payload`` (``HPUB`` with a NATS header block ``headers``)
    for the next flush; False when not done (not connected, the buffer would pass
    its limit, or internals not as expected)."""
    if not nc.is_connected or len(payload) + len(headers) > nc.max_payload:
        return False
    pending: Any = getattr(nc, "_pending", None)
    size: Any = getattr(nc, "_pending_data_size", None)
    limit: Any = getattr(nc, "_max_pending_size", None)
    flush_queue: Any = getattr(nc, "_flush_queue", None)
    flusher: Any = getattr(nc, "_flusher_task", None)
    if not (
        isinstance(pending, list)
        and isinstance(size, int)
        and isinstance(limit, int)
        and isinstance(flush_queue, asyncio.Queue)
        and isinstance(flusher, asyncio.Task)
        and not flusher.done()
    ):
        return False
    if headers:
        command = b"HPUB %s %d %d\r\n%s%s\r\n" % (
            subject.encode(),
            len(headers),
            len(headers) + len(payload),
            headers,
            payload,
        )
    else:
        command = b"PUB %s %d\r\n%s\r\n" % (subject.encode(), len(payload), payload)
    if limit > 0 and size + len(command) > limit:
        return False  # the public path flushes first
    stats: Any = getattr(nc, "stats", None)
    if isinstance(stats, dict):
        stats["out_msgs"] = stats.get("out_msgs", 0) + 1
        stats["out_bytes"] = stats.get("out_bytes", 0) + len(payload)
    writer = _idle_writer(nc) if not pending and size == 0 else None
    if writer is not None:  # nothing ahead of it in any buffer: order is kept
        writer.write(command)
        return True
    pending.append(command)
    nc._pending_data_size = size + len(command)
    if flush_queue.empty():
        flush_queue.put_nowait(asyncio.get_running_loop().create_future())
    return True


def _idle_writer(nc: NatsClient) -> asyncio.WriteTransport | None:
    """The transport nats-py writes ``nc``'s commands to (TCP, or TLS over TCP) when
    nothing is buffered in it or under it (a write goes straight to the socket,
    memory stays bounded); else None."""
    writer = getattr(getattr(nc, "_transport", None), "_io_writer", None)
    transport = getattr(writer, "transport", None)
    if not isinstance(transport, asyncio.WriteTransport) or transport.is_closing():
        return None
    if transport.get_write_buffer_size():
        return None
    if transport.get_extra_info("sslcontext") is not None:
        tcp = reading_transport(nc)
        if not isinstance(tcp, asyncio.WriteTransport) or tcp.get_write_buffer_size():
            return None
    return transport


def quiet_flow_control(sub: object) -> bool:
    """Cancel the flow-control polling task of an ordered consumer's subscription;
    True when it was there to cancel."""
    jsi = _consumer_state(sub)
    task: Any = getattr(jsi, "_fctask", None)
    if not isinstance(task, asyncio.Task):
        return False
    task.cancel()
    jsi._fctask = None
    return True


def answer_flow_control(nc: NatsClient, sub: object) -> None:
    """Send a pending flow-control answer once the message it waits for was
    delivered (the check nats-py's polling task makes)."""
    jsi = _consumer_state(sub)
    reply = getattr(jsi, "_fcr", None)
    if not reply:
        return
    queue: Any = getattr(getattr(sub, "_sub", sub), "_pending_queue", None)
    with contextlib.suppress(AttributeError, TypeError):
        if jsi._fciseq - queue.qsize() < jsi._fcd:
            return
        jsi._fcr = None
        jsi._fcd = 0
        if write_unconfirmed(nc, reply, b""):
            return
        # Not writable now: keep it for the next message or the next heartbeat.
        jsi._fcr = reply


def _consumer_state(sub: object) -> Any:
    # A JetStream push subscription wraps the core subscription that holds the state.
    return getattr(getattr(sub, "_sub", sub), "_jsi", None)


def reading_transport(nc: NatsClient | None) -> asyncio.ReadTransport | None:
    """The TCP transport whose paused reading leaves ``nc``'s bytes in the socket.

    Plain TCP: the connection's transport. TLS: the TCP transport under asyncio's TLS
    transport. Pausing the TLS transport itself would not do: it stops handing
    decrypted bytes up, but the TCP transport under it still wakes the process for
    every arrival to buffer it. Paused underneath, nothing is read until the gate
    resumes it; then each TLS record is decrypted and handed up in the same read, as
    without the gate. None when the transport is of any other shape.
    """
    writer = getattr(getattr(nc, "_transport", None), "_io_writer", None)
    transport = getattr(writer, "transport", None)
    if not isinstance(transport, asyncio.ReadTransport):
        return None
    if transport.get_extra_info("sslcontext") is None:
        return transport
    tcp = getattr(getattr(transport, "_ssl_protocol", None), "_transport", None)
    if not isinstance(tcp, asyncio.ReadTransport) or tcp.get_extra_info("sslcontext"):
        return None
    return tcp


def hand_reading_to_gate(nc: NatsClient | None) -> None:
    """Let the read gate alone pause and resume ``nc``'s socket (see module doc)."""
    reader = getattr(getattr(nc, "_transport", None), "_io_reader", None)
    if isinstance(reader, asyncio.StreamReader):
        limit = getattr(reader, "_limit", None)
        if isinstance(limit, int) and limit < GATED_READER_LIMIT:
            reader._limit = GATED_READER_LIMIT  # type: ignore[attr-defined]
