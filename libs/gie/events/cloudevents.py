"""CloudEvents attributes of gie messages (binary mode: NATS headers, payload as is).

Every message gie publishes carries, as NATS headers:

* ``ce-specversion``: ``1.0``;
* ``ce-type``: :func:`ce_type`, ``io.gie.<kind>.<Type>.v<schema_version>``, where
  ``<kind>`` is the subject's kind token (``gie.v1.<pool>.<kind>...``: ``routing``,
  ``flow``, ``endpoint``, ``metrics``, ``saturation``, ``objective``, ``rewrite``);
* ``ce-source``: the publishing process, ``/gie/<service>/<instance>``;
* ``ce-id``: equal to the message's ``Nats-Msg-Id`` (the event id, or the
  deterministic id of a publisher that deduplicates; a batch message's own id);
* ``ce-time``: when the event occurred (a batch: its first event), RFC 3339;
* ``ce-dataschema``: :func:`gie.events.schema_uri` of the type;
* ``traceparent``: the W3C trace context of the request, when it came with one;
* ``ce-gieevents``: on a batch message only, how many events its JSON array holds.
"""

from __future__ import annotations

SPECVERSION = "1.0"
TYPE_PREFIX = "io.gie"
BATCH_TYPE = "Batch"  # ce-type's <Type> on a batch whose events are of different types

H_SPECVERSION = "ce-specversion"
H_TYPE = "ce-type"
H_SOURCE = "ce-source"
H_ID = "ce-id"
H_TIME = "ce-time"
H_DATASCHEMA = "ce-dataschema"
H_TRACEPARENT = "traceparent"
H_BATCH_SIZE = "ce-gieevents"
H_MSG_ID = "Nats-Msg-Id"

CE_HEADERS = (H_SPECVERSION, H_TYPE, H_SOURCE, H_ID, H_TIME, H_DATASCHEMA, H_TRACEPARENT)


def subject_kind(subject: str) -> str:
    """The kind token of a ``gie.v1.<pool>.<kind>...`` subject (``event`` for others)."""
    parts = subject.split(".", 4)
    return parts[3] if len(parts) >= 4 and parts[0] == "gie" and parts[1] == "v1" else "event"


def ce_type(kind: str, type_name: str, schema_version: int) -> str:
    """``io.gie.<kind>.<Type>.v<schema_version>``, e.g. ``io.gie.routing.RequestRouted.v1``."""
    return f"{TYPE_PREFIX}.{kind}.{type_name}.v{schema_version}"


def source_of(service: str, instance: str) -> str:
    """``ce-source`` of one service process: ``/gie/<service>/<instance>``."""
    return f"/gie/{service}/{instance}"


def type_of(ce_type_value: str) -> str | None:
    """The event type name in a ``ce-type`` value made by :func:`ce_type` (None otherwise)."""
    parts = ce_type_value.split(".")
    if len(parts) != 5 or f"{parts[0]}.{parts[1]}" != TYPE_PREFIX or not parts[4].startswith("v"):
        return None
    return parts[3]
