"""Where an endpoint publishes its KV events: labels first, else the default ports.

Addresses given as labels (a pool file, or Pod annotations through ingest) are checked
here, where they are read: ZMQ refuses a malformed one (``tcp://10.0.0.5`` without a
port, say) when the follower connects, which would crash and restart it forever. A
malformed events address leaves the endpoint without KV events (its precise state stays
unknown, the approximate index stands in); a malformed replay address leaves it without
replay. :attr:`KvAddresses.malformed` names them for the follower to log and count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gie.events import Endpoint
from gie_metrics_collector.fetch import split_address

__all__ = ["KV_EVENTS_LABEL", "KV_REPLAY_LABEL", "KvAddresses", "kv_addresses", "zmq_address_ok"]

# A data-parallel rank in ASCII digits (isdigit() also takes "²", which int() refuses).
_RANK = re.compile(r"[0-9]{1,4}")
# What the collector connects to: tcp://HOST:PORT, HOST a name, an IPv4 address or a
# bracketed IPv6 address (with an optional zone), PORT 1-65535; or ipc://PATH.
_TCP = re.compile(
    r"tcp://(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+(?:%[A-Za-z0-9._-]+)?\]):(?P<port>[0-9]{1,5})"
)
_IPC = re.compile(r"ipc://\S+")

KV_EVENTS_LABEL = "gie.dev/kv-events"
"""Endpoint label (pool file) or pod annotation naming the PUB socket, ``tcp://host:port``."""
KV_REPLAY_LABEL = "gie.dev/kv-events-replay"
"""Endpoint label or pod annotation naming the replay ROUTER socket; ``""``: none."""
RANK_LABEL = "gie.dev/data-parallel-rank"
"""Set by ingest on the endpoints of a data-parallel server: rank r publishes on
port + r (vLLM's rule)."""


@dataclass(frozen=True, slots=True)
class KvAddresses:
    events: str | None  # None: the address was malformed, no KV events for this endpoint
    replay: str | None
    malformed: tuple[tuple[str, str], ...] = ()  # (socket: events/replay, value as given)


def zmq_address_ok(address: str) -> bool:
    """Whether ``address`` is one the collector can connect a ZMQ socket to:
    ``tcp://host:port`` (an IPv6 host in brackets) or ``ipc://path``."""
    tcp = _TCP.fullmatch(address)
    if tcp is not None:
        return 1 <= int(tcp["port"]) <= 65535
    return _IPC.fullmatch(address) is not None


def _tcp(host: str, port: int) -> str:
    return f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"


def kv_addresses(endpoint: Endpoint, *, port: int, replay_port: int) -> KvAddresses:
    """The endpoint's sockets: ``gie.dev/kv-events`` / ``gie.dev/kv-events-replay`` labels,
    else ``port`` / ``replay_port`` (0: none) on the endpoint's host, plus the endpoint's
    data-parallel rank (label ``gie.dev/data-parallel-rank``) as vLLM does. A malformed
    address (see :func:`zmq_address_ok`) is left out (``None``) and listed in
    ``malformed``."""
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
    malformed: list[tuple[str, str]] = []
    return KvAddresses(
        _checked("events", events, malformed),
        _checked("replay", replay, malformed),
        tuple(malformed),
    )


def _checked(socket: str, address: str | None, malformed: list[tuple[str, str]]) -> str | None:
    """``address``, or ``None`` (and noted in ``malformed``) when it is malformed."""
    if address is None or zmq_address_ok(address):
        return address
    malformed.append((socket, address))
    return None
