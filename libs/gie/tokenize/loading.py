"""Tokenizers by kind and local file, as the picker's and the simulator's settings name them.

=========  =====================================================  ==========================
kind       path                                                   library
=========  =====================================================  ==========================
chars      none (``chars_per_token`` instead)                     built in
mistral    a Tekken ``tekken*.json`` or SentencePiece             ``mistral-common``
           ``*.model.v<N>`` file                                  (``tokenizers`` extra)
hf         a ``tokenizer.json`` file or the folder holding it     ``tokenizers``, ``jinja2``
           (chat template: ``tokenizer_config.json`` beside it)   (``tokenizers`` extra)
=========  =====================================================  ==========================

Nothing is downloaded. A loaded tokenizer is kept for the process (by kind, path and
``chars_per_token``): a configuration loaded twice, or several simulated servers, share
it. :class:`TokenizerLoadError` (a ``ValueError``) names the setting at fault
(``kind`` or ``path``).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from pathlib import Path

from gie.tokenize.chars_tokenizer import CharsTokenizer
from gie.tokenize.contracts import Tokenizer
from gie.tokens import CHARS_PER_TOKEN

__all__ = [
    "TOKENIZERS_EXTRA_HINT",
    "TOKENIZER_KINDS",
    "TokenizerLoadError",
    "load_tokenizer",
    "mistral_common_file",
]

TOKENIZER_KINDS = ("chars", "mistral", "hf")
TOKENIZERS_EXTRA_HINT = "pip install 'gie[tokenizers]'"
_NEEDS: dict[str, tuple[str, ...]] = {
    "mistral": ("mistral_common", "sentencepiece"),
    "hf": ("tokenizers", "jinja2"),
}
_ADAPTERS = {
    "mistral": ("gie.tokenize.mistral_tokenizer", "MistralTokenizer"),
    "hf": ("gie.tokenize.hf_tokenizer", "HfTokenizer"),
}


class TokenizerLoadError(ValueError):
    """A tokenizer setting that cannot be used; ``field`` is ``"kind"`` or ``"path"``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def load_tokenizer(
    kind: str, path: str | None = None, *, chars_per_token: int = CHARS_PER_TOKEN
) -> Tokenizer:
    """The tokenizer of ``kind`` read from ``path``; :class:`TokenizerLoadError` when the
    kind is unknown, its library is not installed, or the file is missing or unreadable."""
    return _load(kind, path or None, chars_per_token)


@functools.lru_cache(maxsize=16)
def _load(kind: str, path: str | None, chars_per_token: int) -> Tokenizer:
    if kind not in TOKENIZER_KINDS:
        known = ", ".join(TOKENIZER_KINDS)
        raise TokenizerLoadError("kind", f"unknown tokenizer kind {kind!r}; known kinds: {known}")
    if kind == "chars":
        if path is not None:
            raise TokenizerLoadError("path", "the chars tokenizer reads no file; remove the path")
        return CharsTokenizer(chars_per_token)
    if path is None:
        raise TokenizerLoadError("path", f"required for tokenizer kind {kind!r}")
    missing = [name for name in _NEEDS[kind] if importlib.util.find_spec(name) is None]
    if missing:
        raise TokenizerLoadError(
            "kind",
            f"tokenizer kind {kind!r} needs the 'tokenizers' extra (missing: "
            f"{', '.join(missing)}): {TOKENIZERS_EXTRA_HINT}",
        )
    file = Path(path).expanduser()
    if not file.exists():
        raise TokenizerLoadError("path", f"no such file or folder: {path}")
    module, name = _ADAPTERS[kind]
    adapter = getattr(importlib.import_module(module), name)
    try:
        tokenizer: Tokenizer = adapter(file)
    except (ValueError, OSError) as exc:
        raise TokenizerLoadError("path", f"{path}: {exc}") from exc
    return tokenizer


def mistral_common_file(name: str) -> Path:
    """A tokenizer file ``mistral-common`` ships (``mistral_common/data/<name>``), e.g.
    ``tekken_240911.json``; :class:`TokenizerLoadError` when the library is missing."""
    spec = importlib.util.find_spec("mistral_common")
    if spec is None or spec.origin is None:
        raise TokenizerLoadError(
            "kind", f"mistral-common is not installed: {TOKENIZERS_EXTRA_HINT}"
        )
    return Path(spec.origin).parent / "data" / name
