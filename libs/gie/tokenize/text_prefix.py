"""Encode only as much of a long text as the caller needs, with the same leading ids.

Real tokenizers split text into words (pre-tokens) and merge within a word, so the ids
of a text's prefix cut just before a whitespace equal the whole text's ids except for
the last few, around the cut. :func:`encode_prefix` encodes a prefix long enough for
``max_tokens`` plus a safety margin, and keeps only ids well before the cut. A text
with no whitespace near the cut (or too short to gain anything) is encoded whole.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["FIRST_CHARS_PER_TOKEN", "MARGIN_TOKENS", "encode_prefix", "whitespace_cut"]

MARGIN_TOKENS = 64
"""Ids dropped before the cut: far more than a cut can change (the last word's)."""
FIRST_CHARS_PER_TOKEN = 5  # a first guess above typical text (English: about 4)
_SEARCH_BACK = 512  # characters searched back from the guess for a whitespace


def whitespace_cut(text: str, end: int) -> int | None:
    """Position of a whitespace at or before ``end`` (but not far), or None."""
    start = max(0, end - _SEARCH_BACK)
    for space in ("\n", " "):
        at = text.rfind(space, start, end)
        if at > 0:
            return at
    return None


def encode_prefix(
    encode: Callable[[str], list[int]], text: str, max_tokens: int | None
) -> list[int]:
    """``encode(text)``'s first ids: at least ``max_tokens`` of them (or all of them).

    With ``max_tokens`` None, or a text not much longer than needed, the whole text
    is encoded."""
    if max_tokens is None:
        return encode(text)
    needed = max_tokens + MARGIN_TOKENS
    end = needed * FIRST_CHARS_PER_TOKEN
    while end < len(text):
        cut = whitespace_cut(text, end)
        if cut is None:
            break
        ids = encode(text[:cut])
        if len(ids) >= needed:
            return ids[:max_tokens]
        end *= 2
    return encode(text)
