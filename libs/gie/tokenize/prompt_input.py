"""What a request asks the model to read, before tokenizing: text, a chat, or token ids."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gie.tokenize.chat_template import ChatMessage, canonical_json

__all__ = ["PromptInput", "chat_messages", "prompt_input_of"]


@dataclass(frozen=True, slots=True)
class PromptInput:
    """Exactly one of ``text`` (completions), ``messages`` (chat, with ``tools``) or
    ``token_ids`` (a completion given as ids) describes the prompt.

    ``messages`` may hold :class:`ChatMessage` values or the request body's message
    objects as they are (read by :func:`chat_messages` only when a tokenizer needs them,
    so building a ``PromptInput`` on the request path costs nothing).
    """

    text: str = ""
    messages: Sequence[ChatMessage | object] | None = None
    tools: Sequence[object] = ()
    token_ids: Sequence[int] | None = None


def _content_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part["text"]
            for part in content
            if isinstance(part, dict)
            and part.get("type", "text") == "text"
            and isinstance(part.get("text"), str)
        )
    return ""


def chat_messages(raw: Sequence[ChatMessage | object]) -> tuple[ChatMessage, ...]:
    """Chat messages as an OpenAI-compatible server reads them: text parts of a message
    joined by newlines, tool calls appended as canonical JSON; items that are not
    messages are skipped."""
    messages: list[ChatMessage] = []
    for item in raw:
        if isinstance(item, ChatMessage):
            messages.append(item)
            continue
        if not isinstance(item, dict) or not isinstance(item.get("role"), str):
            continue
        content = _content_text(item.get("content"))
        tool_calls = item.get("tool_calls")
        if tool_calls is not None:
            content += canonical_json(tool_calls)
        messages.append(ChatMessage(item["role"], content))
    return tuple(messages)


def prompt_input_of(payload: Mapping[str, object]) -> PromptInput | None:
    """The prompt of an OpenAI-style body, read as an OpenAI-compatible server reads it
    (text parts of a message joined by newlines, tool calls appended as canonical JSON,
    a list of strings concatenated); None when the body holds no usable prompt."""
    messages = payload.get("messages")
    if isinstance(messages, list) and messages:
        tools = payload.get("tools")
        return PromptInput(messages=messages, tools=tools if isinstance(tools, list) else ())
    prompt = payload.get("prompt")
    if isinstance(prompt, str):
        return PromptInput(text=prompt)
    if isinstance(prompt, list) and prompt:
        if all(isinstance(p, str) for p in prompt):
            return PromptInput(text="".join(prompt))
        if all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in prompt):
            return PromptInput(token_ids=prompt)
    return None
