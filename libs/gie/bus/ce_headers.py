"""CloudEvents binary-mode headers of the messages one bus publishes.

The parts that do not change per message (spec version, type, source, data
schema) are built once per (subject, event type) and kept as bytes and as a
mapping; per message only the id, the time and a trace context are added. The
hot path (:meth:`CeHeaders.block`) writes the NATS header block itself
(``NATS/1.0`` then ``name: value`` lines), as ``HPUB`` sends it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from gie.events import Event, schema_uri
from gie.events.cloudevents import (
    BATCH_TYPE,
    H_BATCH_SIZE,
    H_DATASCHEMA,
    H_ID,
    H_MSG_ID,
    H_SOURCE,
    H_SPECVERSION,
    H_TIME,
    H_TRACEPARENT,
    H_TYPE,
    SPECVERSION,
    ce_type,
    subject_kind,
)
from gie.events.schema_ids import BATCH_SCHEMA

_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
_MAX_REMEMBERED = 10_000
_UNSAFE = re.compile(r"[\r\n\x00]")


def _rfc3339(moment: datetime) -> str:
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def valid_traceparent(value: str | None) -> str | None:
    """``value`` when it is a W3C ``traceparent`` (``00-<trace>-<span>-<flags>``), else None."""
    if value is not None and len(value) == 55 and _TRACEPARENT.fullmatch(value):
        return value
    return None


class CeHeaders:
    """Headers for one publisher (``source``). Not thread-safe: one event loop."""

    def __init__(self, source: str) -> None:
        if not source or _UNSAFE.search(source):
            raise ValueError(f"ce-source must be a non-empty single line, got {source!r}")
        self._source = source
        self._constant: dict[tuple[str, type[Event]], tuple[bytes, dict[str, str]]] = {}
        self._batch_constant: dict[str, tuple[bytes, dict[str, str]]] = {}

    @property
    def source(self) -> str:
        return self._source

    def mapping(
        self, subject: str, event: Event, *, msg_id: str, traceparent: str | None = None
    ) -> dict[str, str]:
        """The headers of a message carrying ``event`` with ``Nats-Msg-Id`` ``msg_id``."""
        headers = dict(self._for(subject, type(event))[1])
        headers[H_ID] = headers[H_MSG_ID] = msg_id
        headers[H_TIME] = _rfc3339(event.occurred_at)
        trace = valid_traceparent(traceparent)
        if trace is not None:
            headers[H_TRACEPARENT] = trace
        return headers

    def block(
        self, subject: str, event: Event, *, msg_id: str, traceparent: str | None = None
    ) -> bytes:
        """:meth:`mapping` as a NATS header block."""
        time = _rfc3339(event.occurred_at)
        line = f"{H_ID}: {msg_id}\r\n{H_MSG_ID}: {msg_id}\r\n{H_TIME}: {time}\r\n"
        trace = valid_traceparent(traceparent)
        if trace is not None:
            line += f"{H_TRACEPARENT}: {trace}\r\n"
        return self._for(subject, type(event))[0] + line.encode() + b"\r\n"

    def batch_block(self, subject: str, events: Sequence[Event], *, msg_id: str) -> bytes:
        """The header block of a batch message (``events`` not empty): its own id,
        its events' type and schema (``Batch`` when they differ), the first event's time."""
        first = type(events[0])
        if all(type(event) is first for event in events):
            constant = self._for(subject, first)[0]
        else:
            constant = self._mixed(subject)[0]
        line = (
            f"{H_ID}: {msg_id}\r\n{H_MSG_ID}: {msg_id}\r\n"
            f"{H_TIME}: {_rfc3339(events[0].occurred_at)}\r\n{H_BATCH_SIZE}: {len(events)}\r\n"
        )
        return constant + line.encode() + b"\r\n"

    def _for(self, subject: str, event_type: type[Event]) -> tuple[bytes, dict[str, str]]:
        key = (subject, event_type)
        constant = self._constant.get(key)
        if constant is None:
            if len(self._constant) >= _MAX_REMEMBERED:
                self._constant.clear()
            kind = subject_kind(subject)
            constant = self._constant[key] = self._build(
                {
                    H_SPECVERSION: SPECVERSION,
                    H_TYPE: ce_type(kind, event_type.TYPE, event_type.SCHEMA_VERSION),
                    H_SOURCE: self._source,
                    H_DATASCHEMA: schema_uri(event_type.TYPE),
                }
            )
        return constant

    def _mixed(self, subject: str) -> tuple[bytes, dict[str, str]]:
        constant = self._batch_constant.get(subject)
        if constant is None:
            if len(self._batch_constant) >= _MAX_REMEMBERED:
                self._batch_constant.clear()
            constant = self._batch_constant[subject] = self._build(
                {
                    H_SPECVERSION: SPECVERSION,
                    H_TYPE: ce_type(subject_kind(subject), BATCH_TYPE, 1),
                    H_SOURCE: self._source,
                    H_DATASCHEMA: schema_uri(BATCH_SCHEMA),  # an array of any events
                }
            )
        return constant

    @staticmethod
    def _build(values: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        block = "NATS/1.0\r\n" + "".join(f"{name}: {value}\r\n" for name, value in values.items())
        return block.encode(), values
