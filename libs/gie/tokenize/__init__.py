"""Prompts to token ids, the same way on the picker and on model servers.

* :class:`Tokenizer` (``contracts``) is the port precise prefix routing uses;
  :class:`PromptInput` is what it reads (completion text, chat messages or token ids),
  built from an OpenAI-style body by :func:`prompt_input_of`.
* :class:`CharsTokenizer` is the download-free default: a token every
  ``chars_per_token`` characters, ids from CRC-32, chats rendered by a fixed
  Llama-3-like template (:func:`render_chat`). The simulator uses it, so picker and
  simulated servers agree on every token id.
* Real tokenizers, read from local files (nothing is downloaded), behind the same port:
  :class:`~gie.tokenize.mistral_tokenizer.MistralTokenizer` (``mistral-common``, as vLLM's
  ``--tokenizer-mode mistral``) and :class:`~gie.tokenize.hf_tokenizer.HfTokenizer`
  (``tokenizer.json`` with the jinja2 chat template of ``tokenizer_config.json``). They
  need the ``tokenizers`` extra and are imported only when :func:`load_tokenizer` is
  asked for one; a long completion prompt is encoded only as far as the caller needs
  (:func:`encode_prefix`).

Pure functions and immutable values; safe from any thread.
"""

from __future__ import annotations

from gie.tokenize.chars_tokenizer import BOS_TOKEN_ID, CharsTokenizer, encode
from gie.tokenize.chat_template import ChatMessage, canonical_json, render_chat
from gie.tokenize.contracts import Tokenizer
from gie.tokenize.loading import (
    TOKENIZER_KINDS,
    TOKENIZERS_EXTRA_HINT,
    TokenizerLoadError,
    load_tokenizer,
    mistral_common_file,
)
from gie.tokenize.prompt_input import PromptInput, chat_messages, prompt_input_of
from gie.tokenize.text_prefix import encode_prefix

__all__ = [
    "BOS_TOKEN_ID",
    "TOKENIZERS_EXTRA_HINT",
    "TOKENIZER_KINDS",
    "CharsTokenizer",
    "ChatMessage",
    "PromptInput",
    "Tokenizer",
    "TokenizerLoadError",
    "canonical_json",
    "chat_messages",
    "encode",
    "encode_prefix",
    "load_tokenizer",
    "mistral_common_file",
    "prompt_input_of",
    "render_chat",
]
