"""Where the published JSON Schema of an event type lives: one stable URI per type.

``https://gie.dev/schemas/gie/v1/<Type>.json``: the path repeats the subject prefix
(``gie.v1`` becomes ``gie/v1``), so a breaking change, which moves events to
``gie.v2.*`` subjects, also moves their schemas. The URI is each schema's ``$id``
and the ``ce-dataschema`` header of every message carrying that type; it names the
schema, it need not be fetchable (the files are in the repository's ``schemas/``).
"""

from __future__ import annotations

import re

from gie.events.base import Event
from gie.events.subjects import PREFIX

SCHEMA_BASE_URI = f"https://gie.dev/schemas/{PREFIX.replace('.', '/')}/"
ENVELOPE_SCHEMA = "Envelope"  # the fields every event carries
BATCH_SCHEMA = "Batch"  # a message carrying several events (a JSON array)

_NAME = re.compile(r"[A-Z][A-Za-z0-9]*")


def schema_uri(event_type: str | type[Event]) -> str:
    """The ``$id`` of the schema of ``event_type`` (a type name such as
    ``"RequestRouted"``, or the event class); ValueError on a name that is not one."""
    name = event_type if isinstance(event_type, str) else event_type.TYPE
    if not _NAME.fullmatch(name):
        raise ValueError(f"not an event type name: {name!r}")
    return f"{SCHEMA_BASE_URI}{name}.json"
