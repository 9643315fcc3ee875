"""Prompts to token ids, the same way on the picker and on model servers.

* :class:`Tokenizer` (``contracts``) is the port precise prefix routing uses;
  :class:`PromptInput` is what it reads (completion text, chat messages or token ids),
  built from an OpenAI-style body by :func:`prompt_input_of`.
* :class:`CharsTokenizer` is the download-free default: a token every
  ``chars_per_token`` characters, ids from CRC-32, chats rendered by a fixed
  Llama-3-like template (:func:`render_chat`). The simulator uses it, so picker and
  simulated servers agree on every token id. Real tokenizers plug in behind the same port.

Pure functions and immutable values; safe from any thread.
"""

from __future__ import annotations

from gie.tokenize.chars_tokenizer import BOS_TOKEN_ID, CharsTokenizer, encode
from gie.tokenize.chat_template import ChatMessage, canonical_json, render_chat
from gie.tokenize.contracts import Tokenizer
from gie.tokenize.prompt_input import PromptInput, chat_messages, prompt_input_of

__all__ = [
    "BOS_TOKEN_ID",
    "CharsTokenizer",
    "ChatMessage",
    "PromptInput",
    "Tokenizer",
    "canonical_json",
    "chat_messages",
    "encode",
    "prompt_input_of",
    "render_chat",
]
