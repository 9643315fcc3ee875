"""Where the JSON Schema of each event type is published.

One URI per type and schema major (``gie/v1``), also the ``$id`` of the
generated schema and the ``ce-dataschema`` header of every message carrying
that type.
"""

from __future__ import annotations

SCHEMA_BASE = "https://gie.dev/schemas/gie/v1"


def schema_uri(type_name: str) -> str:
    """The JSON Schema URI of event type ``type_name`` (e.g. ``RequestRouted``)."""
    if not type_name:
        raise ValueError("an event type name is needed for its schema URI")
    return f"{SCHEMA_BASE}/{type_name}.json"
