"""The per-pool secret that prefix block hashes are keyed with.

Block hashes travel in public events (``RequestRouted.block_hashes``, the ``block_keys``
of ``KvBlocksStored``/``KvBlocksRemoved``). Unkeyed, anyone reading the stream could hash
a guessed prompt and look for it. Keyed with a secret every picker and collector replica
of the pool shares, a hash says nothing to a reader without the secret.

The secret is read from a file (a Kubernetes Secret's key mounted as a file, or the one
the local stack writes at start): its bytes, surrounding whitespace removed, at least
:data:`MIN_SECRET_BYTES` of them. Two keys are derived from it, one per kind of hash
(prompt-text blocks of the approximate index, token-id blocks of the precise index), so
the two never share a value; a third keys the session-affinity hashes of a session
header's value (``RequestRouted.session``), a fourth the published ids of the model
servers' own block hashes (``engine_hashes``), which some servers compute
reproducibly from the tokens. :attr:`PrefixKey.key_id` is a short public fingerprint:
replicas whose ids differ do not agree on the secret (their hashes never match). The
secret must be random (the local stack and the chart make one of 64 random characters):
a guessable one could be found by trying candidates against the id or a known prompt.

Without a file the :meth:`PrefixKey.public_default` key is used: the same everywhere and
therefore no secret at all (services warn at start).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

__all__ = [
    "MIN_SECRET_BYTES",
    "PrefixKey",
    "PrefixKeyError",
    "load_prefix_key",
    "report_prefix_key",
]

MIN_SECRET_BYTES = 16
MAX_SECRET_BYTES = 4096
_PUBLIC_DEFAULT = b"gie public default prefix key: not a secret"


class PrefixKeyError(ValueError):
    """The secret file is missing, unreadable, too short or too long."""


class PrefixKey:
    """The keys of every hash gie publishes from request content, derived from one secret."""

    __slots__ = (
        "engine_mac",
        "is_public_default",
        "key_id",
        "session_mac",
        "text_mac",
        "token_mac",
    )

    def __init__(self, secret: bytes, *, is_public_default: bool = False) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise PrefixKeyError(
                f"prefix key secret has {len(secret)} bytes; at least {MIN_SECRET_BYTES} needed"
            )
        # Keyed BLAKE2b states with nothing hashed yet: each hash starts from a copy, so
        # the key's own compression is paid once, here.
        self.text_mac = hashlib.blake2b(key=_derive(secret, b"gie-prefix-text"), digest_size=8)
        self.token_mac = hashlib.blake2b(key=_derive(secret, b"gie-prefix-toks"), digest_size=8)
        # The published ids of the model servers' own block hashes (KvBlocks*.engine_hashes):
        # an engine's hash may be reproducible from the prompt (SGLang, vLLM with a fixed seed).
        self.engine_mac = hashlib.blake2b(key=_derive(secret, b"gie-engine-ids"), digest_size=8)
        # Session-affinity keys (RequestRouted.session): 16 bytes, shown as 32 hex digits.
        self.session_mac = hashlib.blake2b(key=_derive(secret, b"gie-session"), digest_size=16)
        self.key_id = hashlib.blake2b(secret, digest_size=6, person=b"gie-prefix-kid").hexdigest()
        self.is_public_default = is_public_default

    @classmethod
    def public_default(cls) -> PrefixKey:
        """The key used when none is configured: public, so hashes are effectively unkeyed."""
        return cls(_PUBLIC_DEFAULT, is_public_default=True)

    def __repr__(self) -> str:  # never the secret
        return f"PrefixKey(key_id={self.key_id!r})"


def _derive(secret: bytes, person: bytes) -> bytes:
    return hashlib.blake2b(secret, digest_size=32, person=person).digest()


def load_prefix_key(path: str | Path | None) -> PrefixKey:
    """The key from the secret file at ``path``; the public default when ``path`` is empty."""
    if not path:
        return PrefixKey.public_default()
    try:
        with open(path, "rb") as file:
            secret = file.read(MAX_SECRET_BYTES + 1)
    except OSError as exc:
        raise PrefixKeyError(f"prefix key file {str(path)!r} unreadable: {exc}") from exc
    if len(secret) > MAX_SECRET_BYTES:
        raise PrefixKeyError(
            f"prefix key file {str(path)!r} exceeds {MAX_SECRET_BYTES} bytes (max_secret_bytes)"
        )
    try:
        return PrefixKey(secret.strip())
    except PrefixKeyError as exc:
        raise PrefixKeyError(f"prefix key file {str(path)!r}: {exc}") from exc


def report_prefix_key(log: Any, key: PrefixKey) -> None:
    """Log, once at start, which key this replica hashes with (its id, never the secret)."""
    if key.is_public_default:
        log.warning(
            "prefix hashes keyed with the public default key: a reader of the event stream "
            "can confirm a guessed prompt; set GIE_PREFIX_KEY_FILE",
            prefix_key_id=key.key_id,
        )
    else:
        log.info("prefix hashes keyed with the pool's secret", prefix_key_id=key.key_id)
