"""The simulator's chat template: :mod:`gie.tokenize.chat_template`, shared with the picker."""

from __future__ import annotations

from gie.tokenize.chat_template import ChatMessage, canonical_json, render_chat

__all__ = ["ChatMessage", "canonical_json", "render_chat"]
