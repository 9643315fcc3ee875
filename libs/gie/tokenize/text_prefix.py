"""Encode only as much of a long text as the caller needs, with the same leading ids.

Real tokenizers split text into words (pre-tokens) and merge within a word, so the ids
of a text's prefix cut just before a word boundary (a whitespace, or punctuation:
text without spaces, Chinese or Japanese, has its sentences' and clauses' marks)
equal the whole text's ids except for the last few, around the cut.
:func:`encode_prefix` encodes a prefix long enough for ``max_tokens`` plus a safety
margin, and keeps only ids well before the cut. A text with no boundary near any cut
it tries (or too short to gain anything) is encoded whole.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = [
    "FIRST_CHARS_PER_TOKEN",
    "MARGIN_TOKENS",
    "boundary_cut",
    "encode_prefix",
    "first_cut",
]

MARGIN_TOKENS = 64
"""Ids dropped before the cut: far more than a cut can change (the last word's)."""
FIRST_CHARS_PER_TOKEN = 5  # a first guess above typical text (English: about 4)
_SAMPLE_CHARS = 1_024  # encoded to guess the text's characters per token
_GUESS_SLACK = 1.25  # the first cut goes this much past the guess
_SEARCH_BACK = 512  # characters searched back from the guess for a boundary
# Preferred first: line breaks, spaces, then the marks that end sentences and clauses
# in text written without spaces (CJK full-width forms), then ASCII ones.
_BOUNDARIES = (
    "\n",
    " ",
    "\u3002",  # ideographic full stop
    "\uff01",  # full-width ! ? ; ,
    "\uff1f",
    "\uff1b",
    "\uff0c",
    "\u3001",  # ideographic comma
    "\uff1a",  # full-width colon
    ".",
    "!",
    "?",
    ";",
    ",",
)


def boundary_cut(text: str, end: int) -> int | None:
    """Position of a word boundary at or before ``end`` (but not far), or None."""
    start = max(0, end - _SEARCH_BACK)
    for mark in _BOUNDARIES:
        at = text.rfind(mark, start, end)
        if at > 0:
            return at
    return None


def first_cut(encode: Callable[[str], list[int]], text: str, needed: int) -> int:
    """Characters of ``text`` likely to hold ``needed`` tokens, from its first
    characters' rate: about 4 a token in English, 1 or less in Chinese, where a fixed
    guess would encode several times what is needed."""
    sample = text[:_SAMPLE_CHARS]
    if len(sample) < _SAMPLE_CHARS:
        return needed * FIRST_CHARS_PER_TOKEN
    tokens = len(encode(sample))
    if tokens == 0:
        return needed * FIRST_CHARS_PER_TOKEN
    return int(needed * len(sample) / tokens * _GUESS_SLACK) + 1


def encode_prefix(
    encode: Callable[[str], list[int]], text: str, max_tokens: int | None
) -> list[int]:
    """``encode(text)``'s first ids: at least ``max_tokens`` of them (or all of them).

    With ``max_tokens`` None, or a text not much longer than needed, the whole text
    is encoded."""
    if max_tokens is None:
        return encode(text)
    needed = max_tokens + MARGIN_TOKENS
    if len(text) <= needed * FIRST_CHARS_PER_TOKEN:
        return encode(text)  # short enough: guessing would cost more than it saves
    end = first_cut(encode, text, needed)
    while end < len(text):
        cut = boundary_cut(text, end)
        if cut is not None:
            ids = encode(text[:cut])
            if len(ids) >= needed:
                return ids[:max_tokens]
        end *= 2  # too few ids, or no boundary here: try further on
    return encode(text)
