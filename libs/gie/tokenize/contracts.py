"""The tokenizer port: what precise prefix routing needs to turn a prompt into token ids."""

from __future__ import annotations

from typing import Protocol

from gie.tokenize.prompt_input import PromptInput

__all__ = ["Tokenizer"]


class Tokenizer(Protocol):
    """Turns a request's prompt into the token ids the model server will cache.

    Implementations MUST give the same ids as the model server for the same prompt
    (chat: after its chat template), MUST be deterministic and safe to call from the
    event loop (no I/O; at most a few milliseconds for a long prompt), and raise
    ``ValueError`` for a prompt they cannot encode.
    """

    name: str

    def encode(self, prompt: PromptInput, *, max_tokens: int | None = None) -> list[int]:
        """Ids of ``prompt``. With ``max_tokens``, the result MAY stop after that many
        ids (callers only look at a prefix); it MUST NOT be cut shorter."""
