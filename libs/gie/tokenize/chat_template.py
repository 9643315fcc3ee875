"""Deterministic chat template: turns validated chat messages into one prompt string.

It mimics Llama-3's template (header tokens around each role, ``<|eot_id|>`` after each
message, an open assistant header at the end), so two conversations sharing their first
messages share a text prefix and therefore a token prefix, as with a real template.
Tool definitions are rendered first, as canonical JSON, so identical tool sets are a shared
prefix too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ChatMessage", "canonical_json", "render_chat"]

_BOS = "<|begin_of_text|>"
_EOT = "<|eot_id|>"


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message reduced to what the template needs."""

    role: str
    content: str


def _header(role: str) -> str:
    return f"<|start_header_id|>{role}<|end_header_id|>\n\n"


def canonical_json(value: object) -> str:
    """Stable JSON text for arbitrary JSON values (sorted keys, no spaces); ValueError for
    a value nested beyond the interpreter's recursion limit."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except RecursionError as exc:
        raise ValueError("a JSON value nests too deeply to render") from exc


def render_chat(messages: Sequence[ChatMessage], tools: Sequence[object] = ()) -> str:
    """Prompt text for ``messages`` (and ``tools``), ending with an open assistant turn."""
    parts = [_BOS]
    if tools:
        parts.append(_header("tools"))
        parts.append(canonical_json(list(tools)))
        parts.append(_EOT)
    for message in messages:
        parts.append(_header(message.role))
        parts.append(message.content)
        parts.append(_EOT)
    parts.append(_header("assistant"))
    return "".join(parts)
