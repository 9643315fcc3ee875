"""Chat messages as real chat templates read them (OpenAI-style dicts, text content)."""

from __future__ import annotations

from collections.abc import Sequence

from gie.tokenize.chat_template import ChatMessage

__all__ = ["openai_messages"]


def _text(content: object) -> object:
    if isinstance(content, list):
        return "\n".join(
            part["text"]
            for part in content
            if isinstance(part, dict)
            and part.get("type", "text") == "text"
            and isinstance(part.get("text"), str)
        )
    return content


def openai_messages(raw: Sequence[ChatMessage | object]) -> list[dict[str, object]]:
    """The messages as dicts, every key kept (``tool_calls``, ``tool_call_id``, ``name``),
    a list of content parts turned into its text parts joined by newlines (as vLLM does
    for templates that take string content; other parts are ignored). Items that are
    not messages are skipped."""
    messages: list[dict[str, object]] = []
    for item in raw:
        if isinstance(item, ChatMessage):
            messages.append({"role": item.role, "content": item.content})
        elif isinstance(item, dict) and isinstance(item.get("role"), str):
            message = {str(key): value for key, value in item.items()}
            if "content" in message:
                message["content"] = _text(message["content"])
            messages.append(message)
    return messages
