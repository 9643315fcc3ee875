"""What an InferencePool says about its members: a Pod selector and target ports.

``inference.networking.k8s.io/v1``: ``spec.selector.matchLabels`` and
``spec.targetPorts[].number`` (1 to 8). The deprecated
``inference.networking.x-k8s.io/v1alpha2``: ``spec.selector`` (a label map) and
``spec.targetPortNumber``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gie.label_selector import LabelSelectorError, match_labels_selector
from gie_ingest.kube.errors import InvalidObject

MAX_PORTS = 8
V1_GROUP = "inference.networking.k8s.io"


@dataclass(frozen=True, slots=True)
class PoolSpec:
    """Pods matching ``selector`` (a label selector string), each on ``ports``."""

    selector: str
    ports: tuple[int, ...]


def _port(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        raise InvalidObject(f"{field}: {value!r} is not a port number (1-65535)")
    return value


def _labels(value: Any, field: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidObject(f"{field}: must be a map of label names to values")
    return value


def pool_spec(pool: dict[str, Any], *, group: str) -> PoolSpec:
    """The selector and ports of an InferencePool of ``group``; InvalidObject otherwise."""
    spec = pool.get("spec")
    if not isinstance(spec, dict):
        raise InvalidObject("spec: missing")
    if group == V1_GROUP:
        selector = spec.get("selector")
        field = "spec.selector.matchLabels"
        labels = _labels(selector.get("matchLabels") if isinstance(selector, dict) else None, field)
        targets = spec.get("targetPorts")
        if not isinstance(targets, list) or not 1 <= len(targets) <= MAX_PORTS:
            raise InvalidObject(f"spec.targetPorts: 1 to {MAX_PORTS} ports required")
        ports = tuple(
            _port(t.get("number") if isinstance(t, dict) else None, f"spec.targetPorts[{i}].number")
            for i, t in enumerate(targets)
        )
        if len(set(ports)) != len(ports):
            raise InvalidObject("spec.targetPorts: port numbers must be unique")
    else:
        field = "spec.selector"
        labels = _labels(spec.get("selector"), field)
        ports = (_port(spec.get("targetPortNumber"), "spec.targetPortNumber"),)
    try:
        selector_text = match_labels_selector(labels)
    except LabelSelectorError as exc:
        raise InvalidObject(f"{field}: {exc}") from exc
    return PoolSpec(selector_text, ports)
