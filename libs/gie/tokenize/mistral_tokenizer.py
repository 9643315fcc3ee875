"""Mistral's own tokenizers (the ``mistral-common`` library), as vLLM uses them.

vLLM serves Mistral models with ``--tokenizer-mode mistral``: completion prompts are
encoded with BOS and no EOS, chats by ``mistral-common``'s chat encoding (its control
tokens, system prompt and tool placement for each tokenizer version). This adapter does
the same from a local Tekken (``tekken*.json``) or SentencePiece (``*.model.v<N>``)
file, such as those ``mistral-common`` ships under ``mistral_common/data/``.

A long chat is encoded only as far as needed: every message content longer than a
budget is cut just before a whitespace, where its own tokens already exceed the ids
asked for plus a margin. Each content is encoded on its own (between control tokens,
wherever the version places it), so the ids before any cut are the whole chat's.

Needs the ``tokenizers`` extra. Encoding is pure CPU; safe from any thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mistral_common.exceptions import MistralCommonException
from mistral_common.protocol.instruct.messages import ChatMessage as _MistralMessage
from mistral_common.protocol.instruct.request import ChatCompletionRequest
from mistral_common.tokens.tokenizers.mistral import MistralTokenizer as _Mistral
from pydantic import ValidationError

from gie.tokenize.chat_messages import openai_messages
from gie.tokenize.prompt_input import PromptInput
from gie.tokenize.text_prefix import (
    FIRST_CHARS_PER_TOKEN,
    MARGIN_TOKENS,
    boundary_cut,
    encode_prefix,
    first_cut,
)

__all__ = ["MistralTokenizer"]

_MESSAGE_KEYS = frozenset({"role", "content", "tool_calls", "tool_call_id", "name", "prefix"})


# Mistral's tool-call ids are 9 characters; vLLM keeps the last 9 of longer ones (the
# OpenAI style "call_..." ids) before encoding, for the calls and the tool results.
_TOOL_CALL_ID_LEN = 9


def _short_id(value: object) -> object:
    if isinstance(value, str) and len(value) > _TOOL_CALL_ID_LEN:
        return value[-_TOOL_CALL_ID_LEN:]
    return value


def _message(raw: dict[str, object], *, last: bool) -> dict[str, object]:
    message = {key: value for key, value in raw.items() if key in _MESSAGE_KEYS}
    if "tool_call_id" in message:
        message["tool_call_id"] = _short_id(message["tool_call_id"])
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        message["tool_calls"] = [
            {**call, "id": _short_id(call.get("id"))} if isinstance(call, dict) else call
            for call in calls
        ]
    if message.get("role") != "tool":
        message.pop("name", None)
    if last and message.get("role") == "assistant":
        message["prefix"] = True  # a final assistant turn is continued, as vLLM does
    return message


def _tool(raw: object) -> object:
    if not isinstance(raw, dict) or not isinstance(raw.get("function"), dict):
        return raw
    function = dict(raw["function"])
    function.setdefault("parameters", {})  # mistral-common requires it; OpenAI does not
    if function["parameters"] is None:
        function["parameters"] = {}
    return {**raw, "function": function}


class MistralTokenizer:
    """:class:`~gie.tokenize.contracts.Tokenizer` over a ``mistral-common`` tokenizer file."""

    def __init__(self, path: Path) -> None:
        """Loads ``path``; ``ValueError`` when it is not a Mistral tokenizer file."""
        try:
            self._mistral = _Mistral.from_file(str(path))
        except (MistralCommonException, OSError, ValueError, KeyError) as exc:
            raise ValueError(f"not a Mistral tokenizer file: {exc}") from exc
        self._raw = self._mistral.instruct_tokenizer.tokenizer
        self.name = f"mistral:{path.name}"

    def encode_text(self, text: str) -> list[int]:
        """A completion prompt's ids: BOS first, no EOS."""
        return list(self._raw.encode(text, bos=True, eos=False))

    def _encode_plain(self, text: str) -> list[int]:
        return list(self._raw.encode(text, bos=False, eos=False))

    def encode_chat(self, messages: Sequence[object], tools: Sequence[object] = ()) -> list[int]:
        """A chat's ids, by ``mistral-common``'s chat encoding; ``ValueError`` for a
        conversation it rejects (e.g. roles out of order)."""
        raw = openai_messages(messages)
        prepared = [_message(m, last=i == len(raw) - 1) for i, m in enumerate(raw)]
        try:
            request = ChatCompletionRequest[_MistralMessage].model_validate(
                {"messages": prepared, "tools": [_tool(t) for t in tools] or None}
            )
            return list(self._mistral.encode_chat_completion(request).tokens)
        except (MistralCommonException, ValidationError, TypeError, KeyError) as exc:
            raise ValueError(f"chat not encodable by {self.name}: {exc}") from exc

    def _trimmed(
        self, messages: list[dict[str, object]], limit: int, needed: int
    ) -> tuple[list[dict[str, object]], bool] | None:
        """``messages`` with contents past ``limit`` characters cut (and whether any
        was); None when a cut would come before ``needed`` tokens of its content."""
        trimmed, cut_any = [], False
        for message in messages:
            content = message.get("content")
            if isinstance(content, str) and len(content) > limit:
                cut = boundary_cut(content, limit)
                if cut is None:
                    return None
                head = content[:cut]
                if len(self._raw.encode(head, bos=False, eos=False)) < needed:
                    return None
                trimmed.append({**message, "content": head})
                cut_any = True
            else:
                trimmed.append(message)
        return trimmed, cut_any

    def _encode_chat_prefix(
        self, messages: Sequence[object], tools: Sequence[object], max_tokens: int
    ) -> list[int]:
        raw = openai_messages(messages)
        needed = max_tokens + MARGIN_TOKENS
        contents = [c for m in raw if isinstance(c := m.get("content"), str)]
        longest = max(contents, key=len, default="")
        if len(longest) <= needed * FIRST_CHARS_PER_TOKEN:
            return self.encode_chat(raw, tools)
        limit = first_cut(self._encode_plain, longest, needed)
        while limit < len(longest):
            found = self._trimmed(raw, limit, needed)
            if found is not None:
                trimmed, cut_any = found
                ids = self.encode_chat(trimmed, tools)
                return ids[:max_tokens] if cut_any else ids
            limit *= 2
        return self.encode_chat(raw, tools)

    def encode(self, prompt: PromptInput, *, max_tokens: int | None = None) -> list[int]:
        """Ids of ``prompt``; a long text or chat is only encoded as far as needed."""
        if prompt.token_ids is not None:
            return list(prompt.token_ids)
        if prompt.messages is not None:
            if max_tokens is None:
                return self.encode_chat(prompt.messages, prompt.tools)
            return self._encode_chat_prefix(prompt.messages, prompt.tools, max_tokens)
        return encode_prefix(self.encode_text, prompt.text, max_tokens)
