"""NATS subjects of gie events, version 1: ``gie.v1.<pool>.<kind>.<...>``.

Pool keys (``namespace/name``) and endpoint addresses (``ip:port``) are escaped
into single subject tokens: every character outside ``[A-Za-z0-9-]`` becomes
``_XX`` (its UTF-8 bytes in upper-case hex), so any Kubernetes namespace/name
and any address round-trips through :func:`escape_token` / :func:`unescape_token`.
"""

from __future__ import annotations

import re

PREFIX = "gie.v1"

_SAFE = re.compile(r"[A-Za-z0-9-]")
_ESCAPED = re.compile(r"_([0-9A-F]{2})")


def escape_token(value: str) -> str:
    """Escape ``value`` into one NATS subject token (never empty)."""
    if not value:
        raise ValueError("cannot escape an empty subject token")
    out: list[str] = []
    for char in value:
        if _SAFE.fullmatch(char):
            out.append(char)
        else:
            out.extend(f"_{byte:02X}" for byte in char.encode())
    return "".join(out)


def unescape_token(token: str) -> str:
    """Invert :func:`escape_token`."""
    if not re.fullmatch(r"(?:[A-Za-z0-9-]|_[0-9A-F]{2})+", token):
        raise ValueError(f"not an escaped subject token: {token!r}")
    raw = bytearray()
    pos = 0
    for match in _ESCAPED.finditer(token):
        raw += token[pos : match.start()].encode()
        raw.append(int(match.group(1), 16))
        pos = match.end()
    raw += token[pos:].encode()
    return raw.decode()


def pool_prefix(pool: str) -> str:
    """``gie.v1.<pool>``: the root of every subject of one pool."""
    return f"{PREFIX}.{escape_token(pool)}"


def pool_filter(pool: str) -> str:
    """Wildcard matching every subject of one pool."""
    return f"{pool_prefix(pool)}.>"


def endpoint_subject(pool: str, address: str) -> str:
    """Latest-value subject of one endpoint's membership (upsert/remove)."""
    return f"{pool_prefix(pool)}.endpoint.{escape_token(address)}"


def metrics_subject(pool: str, address: str) -> str:
    """Latest-value subject of one endpoint's scraped metrics."""
    return f"{pool_prefix(pool)}.metrics.{escape_token(address)}"


def objective_subject(pool: str, name: str) -> str:
    """Latest-value subject of one InferenceObjective."""
    return f"{pool_prefix(pool)}.objective.{escape_token(name)}"


def rewrite_subject(pool: str, name: str) -> str:
    """Latest-value subject of one InferenceModelRewrite."""
    return f"{pool_prefix(pool)}.rewrite.{escape_token(name)}"


def saturation_subject(pool: str) -> str:
    """Latest-value subject of the pool's saturation."""
    return f"{pool_prefix(pool)}.saturation.pool"


def routing_subject(pool: str, kind: str) -> str:
    """Subject of routing facts: ``routing.routed``, ``routing.completed``."""
    return f"{pool_prefix(pool)}.routing.{kind}"


def flow_subject(pool: str, kind: str) -> str:
    """Subject of flow-control facts: ``flow.queued``, ``flow.dispatched``,
    ``flow.rejected``, ``flow.evicted``."""
    return f"{pool_prefix(pool)}.flow.{kind}"


def kv_subject(pool: str, address: str) -> str:
    """Subject of one endpoint's prefix-cache changes (``KvBlocksStored`` and kin)."""
    return f"{pool_prefix(pool)}.kv.{escape_token(address)}"


def pool_of(subject: str) -> str:
    """The pool key a subject belongs to."""
    parts = subject.split(".")
    if len(parts) < 4 or ".".join(parts[:2]) != PREFIX:
        raise ValueError(f"not a gie v1 subject: {subject!r}")
    return unescape_token(parts[2])


# Stream-level wildcards (every pool).
STATE_SUBJECTS = (
    f"{PREFIX}.*.endpoint.>",
    f"{PREFIX}.*.metrics.>",
    f"{PREFIX}.*.saturation.>",
    f"{PREFIX}.*.objective.>",
    f"{PREFIX}.*.rewrite.>",
)
EVENT_SUBJECTS = (f"{PREFIX}.*.routing.>", f"{PREFIX}.*.flow.>")
KV_SUBJECTS = (f"{PREFIX}.*.kv.>",)
