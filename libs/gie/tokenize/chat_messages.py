"""Chat messages as real chat templates read them (OpenAI-style dicts, text content)."""

from __future__ import annotations

import json
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


def _tool_calls(calls: list[object]) -> list[object]:
    """Each call's ``function.arguments`` as the object its JSON text holds (empty: ``{}``),
    as vLLM hands them to chat templates; ValueError when that text is not JSON."""
    out: list[object] = []
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(call, dict) or not isinstance(function, dict):
            out.append(call)
            continue
        arguments = function.get("arguments")
        if not arguments:
            arguments = {}
        elif not isinstance(arguments, dict | list):
            try:
                arguments = json.loads(str(arguments))
            except json.JSONDecodeError as exc:
                raise ValueError(f"tool call arguments are not JSON: {exc}") from exc
        out.append({**call, "function": {**function, "arguments": arguments}})
    return out


def openai_messages(raw: Sequence[ChatMessage | object]) -> list[dict[str, object]]:
    """The messages as dicts, every key kept (``tool_calls``, ``tool_call_id``, ``name``),
    prepared as vLLM prepares them for a chat template: a list of content parts turned
    into its text parts joined by newlines (other parts are ignored), no content as "",
    an assistant's tool-call arguments parsed from their JSON text, and an empty
    ``tool_calls`` list dropped. Items that are not messages are skipped."""
    messages: list[dict[str, object]] = []
    for item in raw:
        if isinstance(item, ChatMessage):
            messages.append({"role": item.role, "content": item.content})
        elif isinstance(item, dict) and isinstance(item.get("role"), str):
            message = {str(key): value for key, value in item.items()}
            content = message.get("content")
            message["content"] = "" if content is None else _text(content)
            calls = message.get("tool_calls")
            if isinstance(calls, list) and message["role"] == "assistant":
                if calls:
                    message["tool_calls"] = _tool_calls(calls)
                else:
                    del message["tool_calls"]
            messages.append(message)
    return messages
