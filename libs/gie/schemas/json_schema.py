"""JSON Schema (draft 2020-12) of the envelope, every event type and a batch.

Generated from the pydantic models, then made into a published contract:

* every object allows added fields (the models forbid extras so a typo is an error
  inside gie; a consumer must accept fields a newer gie adds);
* ``type`` is the type's name and ``schema_version`` its version (constants), and
  the envelope fields gie always writes are required;
* per-field titles pydantic derives from the names are dropped; each schema has a
  stable ``$id`` (:func:`gie.events.schema_uri`). Nested models stay in ``$defs``,
  so every file stands alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gie.events import Event
from gie.events.schema_ids import BATCH_SCHEMA, ENVELOPE_SCHEMA, schema_uri
from gie.schemas.field_docs import FIELD_DOCS

DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Written by every gie publisher, whatever the defaults of the model say.
ALWAYS_WRITTEN = ("event_id", "type", "schema_version", "occurred_at", "source", "pool")

# What the envelope's fields mean (the other fields: gie.schemas.field_docs).
ENVELOPE_FIELDS = {
    "event_id": "Unique id of the event (also the `Nats-Msg-Id` of a one-event message).",
    "type": "The event type, e.g. `EndpointUpserted`: names the schema of the rest.",
    "schema_version": "Version of that type's schema.",
    "occurred_at": "When the fact happened (UTC).",
    "source": "Instance id of the publisher.",
    "pool": "`namespace/name` of the InferencePool.",
    "correlation_id": "The request id, for request-scoped events; null otherwise.",
}

JsonSchema = dict[str, Any]


def event_schema(event_type: type[Event]) -> JsonSchema:
    """The published schema of one event type."""
    raw = event_type.model_json_schema(mode="validation")
    properties = _open(raw, FIELD_DOCS.get(event_type.TYPE, {}))["properties"]
    properties["type"] = {"type": "string", "const": event_type.TYPE}
    properties["schema_version"] = {"type": "integer", "const": event_type.SCHEMA_VERSION}
    _describe_envelope(properties)
    return _document(event_type.TYPE, event_type.__doc__ or "", raw)


def envelope_schema() -> JsonSchema:
    """The fields every event carries, whatever its type."""
    raw = Event.model_json_schema(mode="validation")
    properties = _open(raw, {})["properties"]
    properties["type"] = {"type": "string", "minLength": 1}
    properties["schema_version"] = {"type": "integer", "minimum": 1}
    _describe_envelope(properties)
    description = (
        "The envelope of every gie event: `type` names the event's own schema "
        "(`<type>.json` beside this one), which adds the fields of that fact."
    )
    return _document(ENVELOPE_SCHEMA, description, raw)


def batch_schema() -> JsonSchema:
    """A message carrying several events: a JSON array, oldest first."""
    return {
        "$schema": DIALECT,
        "$id": schema_uri(BATCH_SCHEMA),
        "title": BATCH_SCHEMA,
        "description": (
            "Several events in one message, oldest first: on a routing subject all of "
            "the subject's type; on a kv subject the events of one engine step, which may "
            "be of several types (ce-type io.gie.kv.Batch.v1)."
        ),
        "type": "array",
        "items": {"$ref": f"{ENVELOPE_SCHEMA}.json"},
    }


def published_schemas(event_types: Iterable[type[Event]]) -> dict[str, JsonSchema]:
    """Every published schema by name (the file is ``<name>.json``): the envelope,
    the batch, then one per event type."""
    schemas = {ENVELOPE_SCHEMA: envelope_schema(), BATCH_SCHEMA: batch_schema()}
    for event_type in event_types:
        if event_type.TYPE in schemas:
            raise ValueError(f"two schemas are named {event_type.TYPE!r}")
        schemas[event_type.TYPE] = event_schema(event_type)
    return schemas


def _document(name: str, description: str, raw: JsonSchema) -> JsonSchema:
    properties = raw["properties"]
    required = set(raw.get("required", ())) | set(ALWAYS_WRITTEN)
    document: JsonSchema = {
        "$schema": DIALECT,
        "$id": schema_uri(name),
        "title": name,
        "description": _clean(description),
        "type": "object",
        "properties": properties,
        "required": [field for field in properties if field in required],
    }
    if "$defs" in raw:
        document["$defs"] = {
            key: _open(value, FIELD_DOCS.get(key, {})) for key, value in raw["$defs"].items()
        }
    return document


def _describe_envelope(properties: JsonSchema) -> None:
    for name, description in ENVELOPE_FIELDS.items():
        properties[name] = {"description": description, **properties[name]}


def _open(model: JsonSchema, descriptions: dict[str, str]) -> JsonSchema:
    """A model's object schema with added fields allowed, derived titles dropped and
    fields described (a description the model gives wins)."""
    model.pop("additionalProperties", None)
    properties = model.get("properties", {})
    for name, value in properties.items():
        value.pop("title", None)
        if name in descriptions and "description" not in value:
            properties[name] = {"description": descriptions[name], **value}
    if "description" in model:
        model["description"] = _clean(model["description"])
    return model


def _clean(docstring: str) -> str:
    """A docstring as one paragraph per blank-line-separated block, in Markdown code."""
    paragraphs = [" ".join(block.split()) for block in docstring.strip().split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p).replace("``", "`")
