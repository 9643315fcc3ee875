"""Pods to endpoints: one endpoint per target port of every ready Pod.

A Pod is a member while it has an IP (``status.podIP``), its ``Ready`` condition is
``True`` and it is not being deleted (no ``metadata.deletionTimestamp``). It leaves
as soon as one of these stops being true and comes back when all hold again.

With one target port the endpoint is named after the Pod and carries the Pod's
labels. With several ports (data-parallel ranks) endpoint *n* (0-based, in the
order of the ports) is named ``<pod>-rank-<n>`` and has the extra label
:data:`RANK_LABEL` = ``"<n>"``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from gie.events import Endpoint
from gie_ingest.kube.errors import InvalidObject

RANK_LABEL = "gie.dev/data-parallel-rank"


def pod_is_member(pod: dict[str, Any]) -> bool:
    """True when the Pod has an IP, is Ready and is not terminating."""
    metadata = pod.get("metadata") or {}
    status = pod.get("status") or {}
    if metadata.get("deletionTimestamp") or not status.get("podIP"):
        return False
    return any(
        condition.get("type") == "Ready" and condition.get("status") == "True"
        for condition in status.get("conditions") or ()
    )


def _host(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def pod_endpoints(pod: dict[str, Any], ports: tuple[int, ...]) -> list[Endpoint]:
    """The endpoints of one Pod on ``ports`` (none when it is not a member).

    InvalidObject when its IP does not make an endpoint address."""
    if not pod_is_member(pod):
        return []
    try:
        return _endpoints(pod, ports)
    except ValidationError as exc:
        ip = pod["status"]["podIP"]
        raise InvalidObject(f"status.podIP: {ip!r} does not make an endpoint address") from exc


def _endpoints(pod: dict[str, Any], ports: tuple[int, ...]) -> list[Endpoint]:
    metadata = pod["metadata"]
    name = str(metadata.get("name", ""))
    labels = {str(k): str(v) for k, v in (metadata.get("labels") or {}).items()}
    host = _host(str(pod["status"]["podIP"]))
    if len(ports) == 1:
        return [Endpoint(address=f"{host}:{ports[0]}", name=name, labels=labels)]
    return [
        Endpoint(
            address=f"{host}:{port}",
            name=f"{name}-rank-{rank}",
            labels={**labels, RANK_LABEL: str(rank)},
        )
        for rank, port in enumerate(ports)
    ]
