"""Tokens estimated from text, where no tokenizer is at hand.

:data:`CHARS_PER_TOKEN` is upstream's estimate (its prefix-cache plugin's average
characters per token), about what BPE tokenizers give for English. The picker counts a
request's input tokens with it (flow control) and turns a KV block of tokens into
characters (``prefix-cache-scorer`` with ``autoTune``); the simulator's tokenizer cuts
text at this rate by default, and the benchmarks size their prompts with it.
"""

from __future__ import annotations

__all__ = ["CHARS_PER_TOKEN"]

CHARS_PER_TOKEN = 4
