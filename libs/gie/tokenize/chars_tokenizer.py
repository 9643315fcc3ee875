"""A deterministic, download-free stand-in for a real tokenizer (the default).

Text is cut into chunks of ``chars_per_token`` characters; each chunk is one token whose id
is a CRC-32 of its UTF-8 bytes. Equal text prefixes therefore give equal token prefixes,
which is all the prefix cache needs, and token counts are in the right ballpark for English
(real BPE tokenizers average about four characters per token). Completion prompts get
:data:`BOS_TOKEN_ID` first; chats are rendered by :mod:`gie.tokenize.chat_template`,
whose text starts with the BOS marker itself. The simulator tokenizes with it, so the
picker, using the same class, computes the very token ids a simulated server caches.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from gie.tokenize.chat_template import ChatMessage, render_chat
from gie.tokenize.prompt_input import PromptInput, chat_messages
from gie.tokens import CHARS_PER_TOKEN

__all__ = ["BOS_TOKEN_ID", "CharsTokenizer", "encode"]

BOS_TOKEN_ID = 128000
"""Begin-of-sequence id prepended to completion prompts (Llama-3's ``<|begin_of_text|>``)."""


def encode(text: str, chars_per_token: int = CHARS_PER_TOKEN, *, add_bos: bool = True) -> list[int]:
    """Token ids of ``text``: one per ``chars_per_token`` characters, BOS first if asked."""
    step = max(1, chars_per_token)
    ids = [BOS_TOKEN_ID] if add_bos else []
    crc32 = zlib.crc32
    ids.extend(crc32(text[i : i + step].encode("utf-8")) for i in range(0, len(text), step))
    return ids


class CharsTokenizer:
    """:class:`~gie.tokenize.contracts.Tokenizer` cutting text every ``chars_per_token``."""

    name = "chars"

    def __init__(self, chars_per_token: int = CHARS_PER_TOKEN) -> None:
        if chars_per_token < 1:
            raise ValueError("chars_per_token must be >= 1")
        self.chars_per_token = chars_per_token

    def encode_text(self, text: str, *, max_chars: int | None = None) -> list[int]:
        """A completion prompt's ids (BOS first), reading at most ``max_chars`` characters."""
        return encode(text if max_chars is None else text[:max_chars], self.chars_per_token)

    def encode_chat(
        self, messages: Sequence[ChatMessage], tools: Sequence[object] = ()
    ) -> list[int]:
        """A chat's ids: the chat template's text, cut like any text (no extra BOS)."""
        return encode(render_chat(messages, tools), self.chars_per_token, add_bos=False)

    def encode(self, prompt: PromptInput, *, max_tokens: int | None = None) -> list[int]:
        """Ids of ``prompt``; with ``max_tokens`` at least that many leading ids (or all)."""
        if prompt.token_ids is not None:
            return list(prompt.token_ids)
        if prompt.messages is not None:
            return self.encode_chat(chat_messages(prompt.messages), prompt.tools)
        max_chars = None if max_tokens is None else max_tokens * self.chars_per_token
        return self.encode_text(prompt.text, max_chars=max_chars)
