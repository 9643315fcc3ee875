"""Limits on what a request body may be: its size, its nesting depth and (YAML) its aliases.

The real API server refuses bodies over 3 MiB and JSON nested beyond a fixed depth; this
stand-in refuses bodies over :data:`MAX_BODY_BYTES` (413, from aiohttp) and documents
nested deeper than :data:`MAX_BODY_DEPTH` (400 naming the limit), before any of its
recursive code (merge patches, validation, conversion) walks them. YAML bodies are also
bounded in aliases and in their size once aliases are expanded
(:func:`gie.config.strict_yaml.safe_load_bounded`).
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from gie_cli.kube.status import bad_request

__all__ = ["MAX_BODY_BYTES", "MAX_BODY_DEPTH", "check_depth", "loads_json", "loads_yaml"]

MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_BODY_DEPTH = 200


def check_depth(value: Any, what: str) -> Any:
    """``value`` itself, unless its lists and objects nest deeper than the limit (400)."""
    stack: list[tuple[dict[str, Any] | list[Any], int]] = (
        [(value, 1)] if isinstance(value, dict | list) else []
    )
    while stack:
        item, depth = stack.pop()
        if depth > MAX_BODY_DEPTH:
            raise _too_deep(what)
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return value


def loads_json(raw: bytes, what: str) -> Any:
    """JSON within the depth limit; a 400 naming ``what`` otherwise."""
    try:
        return check_depth(json.loads(raw), what)
    except RecursionError:
        raise _too_deep(what) from None
    except ValueError as error:
        raise bad_request(f"error decoding {what}: {error}") from None


def loads_yaml(raw: bytes, what: str) -> Any:
    """YAML within the size, depth and alias limits; a 400 naming ``what`` otherwise."""
    # Imported here: gie.config brings pydantic-settings, which the stand-in's start (a
    # test fixture's, often) does not otherwise need; YAML bodies are rare.
    from gie.config.strict_yaml import safe_load_bounded  # noqa: PLC0415

    try:
        return safe_load_bounded(raw, max_bytes=MAX_BODY_BYTES, max_depth=MAX_BODY_DEPTH)
    except yaml.YAMLError as error:
        raise bad_request(f"error converting YAML to JSON: {error}") from None


def _too_deep(what: str) -> Exception:
    return bad_request(f"{what} nests deeper than {MAX_BODY_DEPTH} levels (max_body_depth)")
