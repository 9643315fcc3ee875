"""Small helpers over objects as JSON dicts: timestamps, metadata, versions."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from gie_cli.kube.resource_types import ResourceType, api_version

__all__ = [
    "Obj",
    "format_time",
    "generate_name",
    "in_version",
    "parse_time",
]

Obj = dict[str, Any]

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC to the second, as ``metav1.Time`` is written."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None


def generate_name(prefix: str) -> str:
    """``generateName`` plus five random characters, as the server makes them."""
    return prefix + "".join(random.choice(_NAME_CHARS) for _ in range(5))


def in_version(obj: Obj, rtype: ResourceType, version: str) -> Obj:
    """The object as served in ``version`` (apiVersion and kind set; no other conversion)."""
    shown = {"apiVersion": api_version(rtype.group, version), "kind": rtype.kind}
    shown.update({k: v for k, v in obj.items() if k not in ("apiVersion", "kind")})
    return shown
