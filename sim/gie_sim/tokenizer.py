"""The simulator's tokenizer: :mod:`gie.tokenize`'s download-free default, plus filler.

A deterministic, download-free stand-in for a real tokenizer.

Text is cut into chunks of ``chars_per_token`` characters; each chunk is one token whose id
is a CRC-32 of its UTF-8 bytes. Equal text prefixes therefore give equal token prefixes,
which is all the prefix cache needs, and token counts are in the right ballpark for English
(real BPE tokenizers average about four characters per token).

Generated text is filler: a fixed cycle of words, one word per token.
"""

from __future__ import annotations

from gie.tokenize.chars_tokenizer import BOS_TOKEN_ID, encode

__all__ = [
    "BOS_TOKEN_ID",
    "MAX_TOKEN_ID",
    "count_tokens",
    "encode",
    "filler_text",
    "filler_token",
]

MAX_TOKEN_ID = 2**32 - 1
"""Largest token id accepted in a token-id prompt (CRC-32 ids span the whole range)."""


def count_tokens(text: str, chars_per_token: int, *, add_bos: bool = True) -> int:
    """``len(encode(text, chars_per_token, add_bos=add_bos))``, without encoding."""
    step = max(1, chars_per_token)
    return int(add_bos) + -(-len(text) // step)


_FILLER_WORDS: tuple[str, ...] = (
    " the",
    " quick",
    " brown",
    " fox",
    " jumps",
    " over",
    " a",
    " lazy",
    " dog",
    " while",
    " simulated",
    " servers",
    " route",
    " many",
    " tokens",
    ".",
)


def filler_token(index: int) -> str:
    """Text of the ``index``-th generated token (0-based). Deterministic."""
    return _FILLER_WORDS[index % len(_FILLER_WORDS)]


def filler_text(num_tokens: int) -> str:
    """The whole completion text for ``num_tokens`` generated tokens."""
    return "".join(filler_token(i) for i in range(num_tokens))
