"""Mistral's own tokenizers (the ``mistral-common`` library), as vLLM uses them.

vLLM serves Mistral models with ``--tokenizer-mode mistral``: completion prompts are
encoded with BOS and no EOS, chats by ``mistral-common``'s chat encoding (its control
tokens, system prompt and tool placement for each tokenizer version). This adapter does
the same from a local Tekken (``tekken*.json``) or SentencePiece (``*.model.v<N>``)
file, such as those ``mistral-common`` ships under ``mistral_common/data/``.

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
from gie.tokenize.text_prefix import encode_prefix

__all__ = ["MistralTokenizer"]

_MESSAGE_KEYS = frozenset({"role", "content", "tool_calls", "tool_call_id", "name", "prefix"})


def _message(raw: dict[str, object], *, last: bool) -> dict[str, object]:
    message = {key: value for key, value in raw.items() if key in _MESSAGE_KEYS}
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
        except (MistralCommonException, ValidationError) as exc:
            raise ValueError(f"chat not encodable by {self.name}: {exc}") from exc

    def encode(self, prompt: PromptInput, *, max_tokens: int | None = None) -> list[int]:
        """Ids of ``prompt``; a long completion text is only encoded as far as needed."""
        if prompt.token_ids is not None:
            return list(prompt.token_ids)
        if prompt.messages is not None:
            return self.encode_chat(prompt.messages, prompt.tools)
        return encode_prefix(self.encode_text, prompt.text, max_tokens)
