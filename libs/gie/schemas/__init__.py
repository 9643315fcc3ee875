"""The published contract of gie's events: JSON Schemas, the compatibility gate, AsyncAPI.

Third parties consume gie's events; this package turns the event models into what
they read. :mod:`~gie.schemas.json_schema` makes one JSON Schema per event type (plus
the envelope and the batch), each field described from :mod:`~gie.schemas.field_docs`;
:mod:`~gie.schemas.compat` compares a current schema with a frozen one and names
every change that breaks old consumers or old data;
:mod:`~gie.schemas.asyncapi` describes the NATS channels, messages and headers as an
AsyncAPI 3.0 document; :mod:`~gie.schemas.docs` renders the reference parts of the
events page from those. Everything here is pure (dicts in, dicts or text out): the
files live in the repository's ``schemas/`` and ``docs/``, written by
``scripts/schemas.py`` (``make schemas``). Nothing here runs in a service.
"""

from __future__ import annotations

from gie.schemas.compat import breaking_changes, release_breaks
from gie.schemas.json_schema import (
    batch_schema,
    envelope_schema,
    event_schema,
    published_schemas,
)

__all__ = [
    "batch_schema",
    "breaking_changes",
    "envelope_schema",
    "event_schema",
    "published_schemas",
    "release_breaks",
]
