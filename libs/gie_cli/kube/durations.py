"""Ages as ``kubectl get`` shows them (the API server's ``duration.HumanDuration``)."""

from __future__ import annotations

from datetime import datetime

from gie_cli.kube.objects import parse_time

__all__ = ["human_duration", "since"]


def human_duration(seconds: float) -> str:
    """``5s``, ``3m20s``, ``12m``, ``4h5m``, ``10h``, ``3d4h``, ``20d``, ``2y10d``, ``9y``."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y{rest}d" if rest else f"{years}y"
    return f"{hours // 24 // 365}y"


def since(timestamp: str | None, now: datetime) -> str:
    """The age of an RFC 3339 timestamp; ``<unknown>`` when there is none."""
    moment = parse_time(timestamp) if timestamp else None
    if moment is None:
        return "<unknown>"
    return human_duration((now - moment).total_seconds())
