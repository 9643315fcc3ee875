"""The reference parts of the events page, rendered from the AsyncAPI document and
the JSON Schemas.

The page is written by hand; each generated part sits between
``<!-- BEGIN GENERATED: <section> -->`` and ``<!-- END GENERATED: <section> -->``
and :func:`render_sections` replaces what is between them (the markers stay). The
sections: ``envelope``, ``subjects``, ``streams``, ``headers`` and ``fields``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from gie.events.address import ADDRESS_PATTERN
from gie.events.schema_ids import BATCH_SCHEMA, ENVELOPE_SCHEMA
from gie.schemas.asyncapi import HEADERS

Schema = Mapping[str, Any]

_SECTION = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[a-z]+) -->\n)(?P<body>.*?)"
    r"(<!-- END GENERATED: (?P=name) -->)",
    re.DOTALL,
)


def render_sections(
    page: str, *, document: Mapping[str, Any], schemas: Mapping[str, Schema]
) -> str:
    """``page`` with every generated section rendered afresh; ValueError when the page
    names a section that does not exist or lacks one."""
    renderers: dict[str, Callable[[], str]] = {
        "envelope": lambda: _envelope(schemas[ENVELOPE_SCHEMA]),
        "subjects": lambda: _subjects(document),
        "streams": lambda: _streams(document),
        "headers": lambda: _headers(document),
        "fields": lambda: _fields(schemas),
    }
    found: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in renderers:
            raise ValueError(f"unknown generated section {name!r}")
        found.add(name)
        return match.group(1) + renderers[name]() + match.group(4)

    rendered = _SECTION.sub(replace, page)
    missing = sorted(renderers.keys() - found)
    if missing:
        raise ValueError(f"the page lacks generated section(s): {', '.join(missing)}")
    return rendered


def _envelope(envelope: Schema) -> str:
    rows = [
        [f"`{name}`", type_text(field), _yes(name, envelope), field.get("description", "")]
        for name, field in envelope["properties"].items()
    ]
    return _table(["field", "type", "required", "meaning"], rows)


def _subjects(document: Mapping[str, Any]) -> str:
    rows = []
    for channel in document["channels"].values():
        names = [ref["$ref"].rsplit("/", 1)[1] for ref in channel["messages"].values()]
        events = ", ".join(f"`{name}`" for name in names if not name.endswith("Batch"))
        if any(name.endswith("Batch") for name in names):
            events += " (one event or a batch)"
        address = re.sub(r"\{(\w+)\}", r"<\1>", channel["address"])
        kind = channel["parameters"].get("kind")
        if kind is not None:
            events += "; `<kind>`: " + ", ".join(f"`{k}`" for k in kind["enum"])
        rows.append([f"`{address}`", f"`{channel['x-gie-stream']}`", events])
    return _table(["subject", "stream", "events"], rows)


def _streams(document: Mapping[str, Any]) -> str:
    rows = []
    for name, stream in document["x-gie-streams"].items():
        limits = []
        if "max_msgs_per_subject" in stream:
            limits.append(f"last {stream['max_msgs_per_subject']} messages per subject")
        if "max_age_s" in stream:
            limits.append(f"{_duration(stream['max_age_s'])}")
        if "max_bytes" in stream:
            limits.append(f"at most {_size(stream['max_bytes'])}")
        subjects = ", ".join(f"`{subject}`" for subject in stream["subjects"])
        window = _duration(stream["duplicate_window_s"])
        rows.append([f"`{name}`", subjects, "; ".join(limits), window])
    return _table(["stream", "subjects", "keeps", "duplicate window"], rows)


def _headers(document: Mapping[str, Any]) -> str:
    headers = document["components"]["schemas"][HEADERS]
    rows = []
    for name, header in headers["properties"].items():
        value = f"`{header['const']}`" if "const" in header else type_text(header)
        examples = header.get("examples")
        if examples:
            value += f", e.g. `{examples[0]}`"
        rows.append([f"`{name}`", _yes(name, headers), value, header.get("description", "")])
    return _table(["header", "required", "value", "meaning"], rows)


def _fields(schemas: Mapping[str, Schema]) -> str:
    envelope = set(schemas[ENVELOPE_SCHEMA]["properties"])
    parts: list[str] = []
    nested: dict[str, Schema] = {}
    for name, schema in schemas.items():
        if name in {ENVELOPE_SCHEMA, BATCH_SCHEMA}:
            continue
        parts.append(f"### {name}\n\n{schema['description']}\n\n")
        own = {key: value for key, value in schema["properties"].items() if key not in envelope}
        parts.append(_field_table(own, schema) if own else "Only the envelope.\n")
        parts.append("\n")
        nested.update(schema.get("$defs", {}))
    for name, schema in sorted(nested.items()):
        parts.append(f"### {name} (object)\n\n{schema.get('description', '')}\n\n")
        parts.append(_field_table(schema["properties"], schema) + "\n")
    return "".join(parts)


def _field_table(properties: Mapping[str, Schema], schema: Schema) -> str:
    rows = [
        [
            f"`{name}`",
            type_text(field),
            _yes(name, schema),
            constraints_text(field),
            field.get("description", ""),
        ]
        for name, field in properties.items()
    ]
    return _table(["field", "type", "required", "constraints, default", "meaning"], rows)


def type_text(node: Schema) -> str:
    """A field's JSON type in words: ``integer or null``, ``list of address``."""
    if "$ref" in node:
        return f"{node['$ref'].rsplit('/', 1)[1]} (object)"
    if "anyOf" in node:
        return " or ".join(type_text(alternative) for alternative in node["anyOf"])
    json_type = node.get("type", "any")
    if json_type == "array":
        return f"list of {type_text(node.get('items', {}))}"
    if json_type == "object" and isinstance(node.get("additionalProperties"), Mapping):
        return f"map of string to {type_text(node['additionalProperties'])}"
    if json_type == "string" and node.get("format") == "date-time":
        return "RFC 3339 time"
    if json_type == "string" and node.get("pattern") == ADDRESS_PATTERN:
        return "address (`ip:port`)"
    return str(json_type)


def constraints_text(node: Schema) -> str:
    """A field's constraints and default in words."""
    words: list[str] = []
    for branch in node.get("anyOf", [node]):
        words += _branch_constraints(branch)
    if "const" in node:
        words.append(f"always `{json.dumps(node['const'])}`")
    if "default" in node:
        words.append(f"default `{json.dumps(node['default'])}`")
    return "; ".join(words)


def _branch_constraints(node: Schema) -> list[str]:
    words = []
    symbols = {"minimum": "≥", "exclusiveMinimum": ">", "maximum": "≤", "exclusiveMaximum": "<"}
    words += [f"{symbols[key]} {node[key]}" for key in symbols if key in node]
    if node.get("minLength") == 1:
        words.append("non-empty")
    elif "minLength" in node:
        words.append(f"at least {node['minLength']} characters")
    if "maxLength" in node:
        words.append(f"at most {node['maxLength']} characters")
    if "minItems" in node:
        words.append(f"at least {node['minItems']} item(s)")
    if "pattern" in node and node["pattern"] != ADDRESS_PATTERN:
        words.append(f"matches `{node['pattern']}`")
    return words


def _yes(name: str, schema: Schema) -> str:
    return "yes" if name in schema.get("required", ()) else ""


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _duration(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s"


def _size(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"
