"""The AsyncAPI 3.0 document of gie's events on NATS, built from the code.

One channel per kind of subject (:mod:`gie.events.subjects`), with its parameters
(``pool``, ``address``, ``name``, ``kind``), the stream that stores it and that
stream's retention (``x-gie-stream``: the NATS binding defines no channel fields),
and its messages: one per event type, plus a batch message on routing subjects.
The streams and their retention are listed once, under ``x-gie-streams``.
Payloads are ``$ref``s into the JSON Schemas beside the document
(``gie/v1/<Type>.json``); headers are the CloudEvents binary-mode headers every
message carries. The stream of a channel is found by matching its subjects against
the streams' filters, so the document follows :mod:`gie.bus.streams`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gie.bus.streams import ALL_STREAMS, StreamSpec
from gie.events import (
    EndpointMetricsObserved,
    EndpointRemoved,
    EndpointUpserted,
    Event,
    KvBlocksRemoved,
    KvBlocksStored,
    KvCacheCleared,
    KvStateUnknown,
    ModelRewriteRemoved,
    ModelRewriteUpserted,
    ObjectiveRemoved,
    ObjectiveUpserted,
    PoolSaturationChanged,
    RequestCompleted,
    RequestDispatched,
    RequestEvicted,
    RequestQueued,
    RequestRejected,
    RequestRouted,
    schema_uri,
)
from gie.events.schema_ids import BATCH_SCHEMA
from gie.events.subjects import PREFIX

ASYNCAPI_VERSION = "3.0.0"
SCHEMA_FORMAT = "application/schema+json;version=draft-2020-12"
SCHEMA_DIR = "./" + PREFIX.replace(".", "/")  # payload schemas, relative to the document
HEADERS = "CloudEventsHeaders"
NATS_BINDING = {"nats": {"bindingVersion": "0.1.0"}}


@dataclass(frozen=True, slots=True)
class Channel:
    """One kind of subject: ``address`` after the prefix and pool, the events it
    carries (by the ``kind`` token when the subject has one), and whether a message
    may hold a batch."""

    key: str
    address: str
    events: tuple[type[Event], ...] = ()
    kinds: Mapping[str, type[Event]] = field(default_factory=dict)
    batches: bool = False

    @property
    def event_types(self) -> tuple[type[Event], ...]:
        return self.events or tuple(self.kinds.values())


CHANNELS: tuple[Channel, ...] = (
    Channel("endpoint", "endpoint.{address}", (EndpointUpserted, EndpointRemoved)),
    Channel("metrics", "metrics.{address}", (EndpointMetricsObserved,)),
    Channel("objective", "objective.{name}", (ObjectiveUpserted, ObjectiveRemoved)),
    Channel("rewrite", "rewrite.{name}", (ModelRewriteUpserted, ModelRewriteRemoved)),
    Channel("saturation", "saturation.pool", (PoolSaturationChanged,)),
    Channel(
        "routing",
        "routing.{kind}",
        kinds={"routed": RequestRouted, "completed": RequestCompleted},
        batches=True,
    ),
    Channel(
        "flow",
        "flow.{kind}",
        kinds={
            "queued": RequestQueued,
            "dispatched": RequestDispatched,
            "rejected": RequestRejected,
            "evicted": RequestEvicted,
        },
    ),
    Channel(
        "kv",
        "kv.{address}",
        (KvBlocksStored, KvBlocksRemoved, KvCacheCleared, KvStateUnknown),
        batches=True,
    ),
)

_ESCAPING = (
    "escaped into one subject token: every character outside `[A-Za-z0-9-]` becomes "
    "`_XX` (its UTF-8 bytes in upper-case hex)"
)
PARAMETERS: dict[str, dict[str, Any]] = {
    "pool": {
        "description": f"The InferencePool's `namespace/name`, {_ESCAPING}.",
        "examples": ["default_2Fsim-pool"],
    },
    "address": {
        "description": f"The endpoint's `ip:port`, {_ESCAPING}.",
        "examples": ["10_2E0_2E0_2E1_3A8000"],
    },
    "name": {
        "description": f"The name of the Kubernetes object (in the pool's namespace), {_ESCAPING}.",
        "examples": ["batch"],
    },
}


def channel_address(channel: Channel) -> str:
    return f"{PREFIX}.{{pool}}.{channel.address}"


def stream_of(channel: Channel) -> StreamSpec:
    """The stream whose subject filters take the channel's subjects."""
    tokens = channel_address(channel).split(".")
    for stream in ALL_STREAMS:
        if any(_matches(pattern.split("."), tokens) for pattern in stream.subjects):
            return stream
    raise LookupError(f"no stream stores the subjects of channel {channel.key!r}")


def ce_type_pattern(event_type: type[Event]) -> str:
    """The ``ce-type`` of messages carrying ``event_type``: ``io.gie.<family>.<Type>.v<n>``."""
    return rf"^io\.gie\.[a-z]+\.{event_type.TYPE}\.v{event_type.SCHEMA_VERSION}$"


def asyncapi_document() -> dict[str, Any]:
    """The whole document, as plain data (dump it as YAML or JSON)."""
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for channel in CHANNELS:
        names: list[str] = []
        for event_type in channel.event_types:
            kind = _kind_of(channel, event_type)
            messages[event_type.TYPE] = _message(event_type, kind, batch=False)
            names.append(event_type.TYPE)
            if channel.batches:
                messages[f"{event_type.TYPE}Batch"] = _message(event_type, kind, batch=True)
                names.append(f"{event_type.TYPE}Batch")
        if channel.batches and not channel.kinds and len(channel.event_types) > 1:
            # One subject, several types: a batch may mix them (a KV step's stores and
            # removals), and is then typed Batch.
            name = f"{channel.key.capitalize()}Batch"
            messages[name] = _mixed_batch_message(channel, name)
            names.append(name)
        channels[channel.key] = _channel(channel, names)
        operations[f"send{channel.key.capitalize()}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel.key}"},
            "summary": f"gie publishes on {channel_address(channel)}.",
            "messages": [{"$ref": f"#/channels/{channel.key}/messages/{name}"} for name in names],
            "bindings": NATS_BINDING,
        }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:gie:events",
        "info": {
            "title": "gie events",
            "version": PREFIX.rsplit(".", 1)[1].lstrip("v") + ".0.0",
            "description": (
                "Every fact of gie (the event-sourced Endpoint Picker of the Gateway API "
                "Inference Extension) is an immutable event published as JSON on NATS "
                "JetStream. Subjects are versioned (`gie.v1.*`); compatible changes only "
                "add optional fields and enum values."
            ),
            "license": {"name": "Apache-2.0"},
        },
        "servers": {
            "local": {
                "host": "127.0.0.1:4222",
                "protocol": "nats",
                "description": "The NATS server of the local stack (`gie up`).",
            }
        },
        "defaultContentType": "application/json",
        "x-gie-streams": {stream.name: _retention(stream) for stream in ALL_STREAMS},
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "parameters": PARAMETERS,
            "schemas": {HEADERS: _headers_schema()},
        },
    }


def _channel(channel: Channel, names: list[str]) -> dict[str, Any]:
    address = channel_address(channel)
    parameters: dict[str, Any] = {
        name: {"$ref": f"#/components/parameters/{name}"}
        for name in PARAMETERS
        if f"{{{name}}}" in address
    }
    if channel.kinds:
        described = ", ".join(f"`{kind}` ({t.TYPE})" for kind, t in channel.kinds.items())
        parameters["kind"] = {"enum": list(channel.kinds), "description": f"The fact: {described}."}
    return {
        "address": address,
        "title": channel.key,
        "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in names},
        "parameters": parameters,
        "x-gie-stream": stream_of(channel).name,
    }


def _retention(stream: StreamSpec) -> dict[str, Any]:
    retention: dict[str, Any] = {"subjects": list(stream.subjects)}
    if stream.max_msgs_per_subject > 0:
        retention["max_msgs_per_subject"] = stream.max_msgs_per_subject
    if stream.max_age_s > 0:
        retention["max_age_s"] = stream.max_age_s
    if stream.max_bytes > 0:
        retention["max_bytes"] = stream.max_bytes
    retention["duplicate_window_s"] = stream.duplicate_window_s
    return retention


def _message(event_type: type[Event], kind: str | None, *, batch: bool) -> dict[str, Any]:
    ref = {"$ref": f"{SCHEMA_DIR}/{event_type.TYPE}.json"}
    summary = (event_type.__doc__ or event_type.TYPE).strip().split("\n\n")[0]
    message: dict[str, Any] = {
        "name": f"{event_type.TYPE}Batch" if batch else event_type.TYPE,
        "title": f"{event_type.TYPE} batch" if batch else event_type.TYPE,
        "summary": (
            f"Several {event_type.TYPE} events, oldest first (a JSON array)."
            if batch
            else " ".join(summary.split()).replace("``", "`")
        ),
        "contentType": "application/json",
        "headers": _message_headers(ce_type_pattern(event_type), schema_uri(event_type)),
        "payload": {
            "schemaFormat": SCHEMA_FORMAT,
            "schema": {"type": "array", "items": ref} if batch else ref,
        },
    }
    if kind is not None:
        message["x-gie-subject-kind"] = kind
    return message


def _message_headers(ce_type: str, dataschema: str) -> dict[str, Any]:
    """The CloudEvents headers, with the message's own ``ce-type`` pattern and schema."""
    return {
        "allOf": [
            {"$ref": f"#/components/schemas/{HEADERS}"},
            {
                "type": "object",
                "properties": {
                    "ce-type": {"type": "string", "pattern": ce_type},
                    "ce-dataschema": {"type": "string", "const": dataschema},
                },
            },
        ]
    }


def _mixed_batch_message(channel: Channel, name: str) -> dict[str, Any]:
    """A batch whose events are of more than one of ``channel``'s types."""
    types = ", ".join(event_type.TYPE for event_type in channel.event_types)
    return {
        "name": name,
        "title": f"{channel.key} batch of mixed types",
        "summary": f"Several events of the subject, of any of {types}, oldest first (a JSON "
        "array): a batch whose events are not all of one type.",
        "contentType": "application/json",
        "headers": _message_headers(
            rf"^io\.gie\.{channel.key}\.{BATCH_SCHEMA}\.v1$", schema_uri(BATCH_SCHEMA)
        ),
        "payload": {
            "schemaFormat": SCHEMA_FORMAT,
            "schema": {
                "type": "array",
                "items": {
                    "oneOf": [
                        {"$ref": f"{SCHEMA_DIR}/{event_type.TYPE}.json"}
                        for event_type in channel.event_types
                    ]
                },
            },
        },
    }


def _headers_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": (
            "CloudEvents 1.0 in binary mode: the attributes are NATS headers, the "
            "payload is the event (or batch) unchanged."
        ),
        "required": [
            "ce-specversion",
            "ce-type",
            "ce-source",
            "ce-id",
            "ce-time",
            "ce-dataschema",
            "Nats-Msg-Id",
        ],
        "properties": {
            "ce-specversion": {
                "type": "string",
                "const": "1.0",
                "description": "The CloudEvents version.",
            },
            "ce-type": {
                "type": "string",
                "description": (
                    "`io.gie.<family>.<Type>.v<schema_version>`, the family being the "
                    "subject's kind; a batch carries its events' type, or `Batch` when they "
                    "are of several types (a KV engine step's)."
                ),
                "examples": ["io.gie.routing.RequestRouted.v1"],
            },
            "ce-source": {
                "type": "string",
                "minLength": 1,
                "description": ("The publishing service instance: `/gie/<service>/<instance id>`."),
            },
            "ce-id": {
                "type": "string",
                "minLength": 1,
                "description": (
                    "The message's id, equal to `Nats-Msg-Id`: deterministic where the "
                    "publisher deduplicates re-publications. A batch has an id of its own."
                ),
            },
            "ce-time": {
                "type": "string",
                "format": "date-time",
                "description": "When the fact happened (RFC 3339).",
            },
            "ce-dataschema": {
                "type": "string",
                "format": "uri",
                "description": (
                    "The `$id` of the JSON Schema of the message's events "
                    "(`gie.events.schema_uri`); a batch names its events' schema, or "
                    "`Batch.json` when they are of several types."
                ),
            },
            "traceparent": {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": (
                    "W3C trace context of the request the fact is about, when the request "
                    "came with one and the message holds that one event."
                ),
            },
            "ce-gieevents": {
                "type": "string",
                "pattern": "^[1-9][0-9]*$",
                "description": "On a batch only: how many events its JSON array holds.",
            },
            "Nats-Msg-Id": {
                "type": "string",
                "minLength": 1,
                "description": (
                    "JetStream drops a message whose id it stored within the stream's "
                    "duplicate window."
                ),
            },
        },
    }


def _kind_of(channel: Channel, event_type: type[Event]) -> str | None:
    for kind, candidate in channel.kinds.items():
        if candidate is event_type:
            return kind
    return None


def _matches(pattern: list[str], tokens: list[str]) -> bool:
    """NATS subject matching, with ``{param}`` tokens standing for any one token."""
    for position, token in enumerate(pattern):
        if token == ">":
            return len(tokens) > position
        if position >= len(tokens):
            return False
        if token != "*" and token != tokens[position] and not tokens[position].startswith("{"):
            return False
    return len(tokens) == len(pattern)
