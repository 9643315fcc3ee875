"""Deterministic filler text of a given size, from a seed (no data set is downloaded).

Text is made of pseudo-words drawn from a seeded vocabulary, so different seeds give
texts that share no prefix, and the same seed gives the same text on every machine.
Sizes are in *simulator tokens*: the simulator counts one token per
:data:`~gie.tokens.CHARS_PER_TOKEN` characters, so ``text(rng, tokens=n)`` has ``4 * n``
characters.
"""

from __future__ import annotations

import random
import string

from gie.tokens import CHARS_PER_TOKEN

__all__ = ["TextSource"]

_VOCABULARY_SIZE = 4096


class TextSource:
    """Draws words from a vocabulary built once from ``seed``."""

    def __init__(self, seed: int) -> None:
        builder = random.Random(seed)
        letters = string.ascii_lowercase
        self._words = [
            "".join(builder.choices(letters, k=builder.randint(2, 9)))
            for _ in range(_VOCABULARY_SIZE)
        ]

    def text(self, rng: random.Random, *, tokens: int) -> str:
        """Exactly ``tokens * CHARS_PER_TOKEN`` characters of space-separated words."""
        chars = max(0, tokens) * CHARS_PER_TOKEN
        if chars == 0:
            return ""
        # Words average ~6.5 characters with their space; draw a little more than needed.
        words = rng.choices(self._words, k=chars // 5 + 8)
        out = " ".join(words)
        while len(out) < chars:
            out += " " + " ".join(rng.choices(self._words, k=64))
        return out[:chars]
