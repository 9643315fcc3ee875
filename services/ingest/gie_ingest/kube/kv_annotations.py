"""Pod annotations naming where a model server publishes its KV-cache events.

vLLM publishes its prefix-cache changes on a ZMQ PUB socket (``--kv-events-config``,
``tcp://*:5557`` by default) and may keep a replay ROUTER socket. A Pod says where with

* :data:`KV_EVENTS_ANNOTATION` (``gie.dev/kv-events``): a port (``"5557"``), or an
  address ``tcp://HOST:PORT`` where a wildcard host (``*``, ``0.0.0.0``, ``::``), as in
  vLLM's own setting, stands for the Pod's IP;
* :data:`KV_REPLAY_ANNOTATION` (``gie.dev/kv-events-replay``): the same forms, or ``""``
  for no replay socket.

Ingest turns them into the endpoint labels of the same names, ``tcp://<pod IP>:<port>``,
which the metrics-collector reads (without them it connects to port 5557 and 5558 on the
endpoint's host). On the endpoints of a data-parallel Pod, rank *r* gets port + *r*, as
vLLM's ranks bind. A value that is neither form is an :class:`InvalidObject` naming the
annotation; the Pod's endpoints are kept without it.
"""

from __future__ import annotations

import re
from typing import Any

from gie.events import Endpoint
from gie_ingest.kube.errors import InvalidObject
from gie_ingest.kube.pod_endpoints import RANK_LABEL

__all__ = ["KV_EVENTS_ANNOTATION", "KV_REPLAY_ANNOTATION", "with_kv_event_addresses"]

KV_EVENTS_ANNOTATION = "gie.dev/kv-events"
KV_REPLAY_ANNOTATION = "gie.dev/kv-events-replay"
# Ports in ASCII digits only: str.isdigit and \d also take the digits of other scripts
# (superscripts, Arabic-Indic), which int() refuses or reads as another number.
_PORT = re.compile(r"[0-9]{1,5}")
_ADDRESS = re.compile(r"tcp://(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:/\[\]]+)):(?P<port>[0-9]{1,5})")
_WILDCARDS = frozenset({"*", "0.0.0.0", "::"})


def _parse(name: str, value: object) -> tuple[str | None, int]:
    """(host or None for the Pod's IP, port) of one annotation value."""
    text = str(value).strip()
    host: str | None = None
    if _PORT.fullmatch(text):
        port = int(text)
    else:
        match = _ADDRESS.fullmatch(text)
        if match is None:
            raise InvalidObject(
                f"metadata.annotations[{name!r}]: {text!r} is neither a port nor tcp://HOST:PORT"
            )
        port = int(match["port"])
        found = match["v6"] or match["host"]
        host = None if found in _WILDCARDS else found
    if not 1 <= port <= 65535:
        raise InvalidObject(f"metadata.annotations[{name!r}]: port {port} is not in 1-65535")
    return host, port


def _tcp(host: str, port: int) -> str:
    return f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"


def with_kv_event_addresses(pod: dict[str, Any], endpoints: list[Endpoint]) -> list[Endpoint]:
    """``endpoints`` of ``pod`` with the KV-event labels its annotations ask for."""
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    wanted = [n for n in (KV_EVENTS_ANNOTATION, KV_REPLAY_ANNOTATION) if n in annotations]
    if not wanted or not endpoints:
        return endpoints
    ip = str(pod["status"]["podIP"])
    parsed = {
        name: None
        if name == KV_REPLAY_ANNOTATION and str(annotations[name]).strip() == ""
        else _parse(name, annotations[name])
        for name in wanted
    }
    result = []
    for endpoint in endpoints:
        rank_text = endpoint.labels.get(RANK_LABEL, "0")
        rank = int(rank_text) if _PORT.fullmatch(rank_text) else 0
        labels = dict(endpoint.labels)
        for name, where in parsed.items():
            if where is None:
                labels[name] = ""
            else:
                host, port = where
                if port + rank > 65535:
                    raise InvalidObject(
                        f"metadata.annotations[{name!r}]: port {port} + rank {rank} > 65535"
                    )
                labels[name] = _tcp(host or ip, port + rank)
        result.append(endpoint.model_copy(update={"labels": labels}))
    return result
