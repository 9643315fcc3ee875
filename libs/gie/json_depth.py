"""Telling JSON that nests too deep from JSON that is malformed.

orjson refuses documents nested deeper than :data:`JSON_DEPTH_LIMIT`, and the words of
its error differ from release to release. :func:`too_deep` gives one message for it
whichever orjson is installed; run it only on a document orjson has refused.
"""

from __future__ import annotations

import re

JSON_DEPTH_LIMIT = 1024
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(document: bytes) -> int:
    """The deepest array/object nesting in ``document``; brackets in strings ignored."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub(b"", document)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def too_deep(document: bytes) -> str | None:
    """A message naming the limit when ``document`` nests past it, else None."""
    if json_depth(document) <= JSON_DEPTH_LIMIT:
        return None
    return f"nests deeper than {JSON_DEPTH_LIMIT} levels (depth limit exceeded)"
