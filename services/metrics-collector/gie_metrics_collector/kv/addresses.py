"""Where an endpoint publishes its KV events: labels first, else the default ports."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gie.events import Endpoint
from gie_metrics_collector.fetch import split_address

__all__ = ["KV_EVENTS_LABEL", "KV_REPLAY_LABEL", "KvAddresses", "kv_addresses"]

# A data-parallel rank in ASCII digits (isdigit() also takes "²", which int() refuses).
_RANK = re.compile(r"[0-9]{1,4}")

KV_EVENTS_LABEL = "gie.dev/kv-events"
"""Endpoint label (pool file) or pod annotation naming the PUB socket, ``tcp://host:port``."""
KV_REPLAY_LABEL = "gie.dev/kv-events-replay"
"""Endpoint label or pod annotation naming the replay ROUTER socket; ``""``: none."""
RANK_LABEL = "gie.dev/data-parallel-rank"
"""Set by ingest on the endpoints of a data-parallel server: rank r publishes on
port + r (vLLM's rule)."""


@dataclass(frozen=True, slots=True)
class KvAddresses:
    events: str
    replay: str | None


def _tcp(host: str, port: int) -> str:
    return f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"


def kv_addresses(endpoint: Endpoint, *, port: int, replay_port: int) -> KvAddresses:
    """The endpoint's sockets: ``gie.dev/kv-events`` / ``gie.dev/kv-events-replay`` labels,
    else ``port`` / ``replay_port`` (0: none) on the endpoint's host, plus the endpoint's
    data-parallel rank (label ``gie.dev/data-parallel-rank``) as vLLM does."""
    host, _ = split_address(endpoint.address)
    rank_text = endpoint.labels.get(RANK_LABEL, "0")
    rank = int(rank_text) if _RANK.fullmatch(rank_text) else 0
    port += rank
    replay_port = replay_port + rank if replay_port else 0
    events = endpoint.labels.get(KV_EVENTS_LABEL) or _tcp(host, port)
    replay: str | None
    if KV_REPLAY_LABEL in endpoint.labels:
        replay = endpoint.labels[KV_REPLAY_LABEL] or None
    else:
        replay = _tcp(host, replay_port) if replay_port else None
    return KvAddresses(events, replay)
