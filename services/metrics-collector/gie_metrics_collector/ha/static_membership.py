"""Membership of a lone replica (HA off): it owns every endpoint."""

from __future__ import annotations

from gie_metrics_collector.ha.contracts import MembershipListener

__all__ = ["StaticMembership"]


class StaticMembership:
    def __init__(self, me: str) -> None:
        self._members = frozenset({me})

    @property
    def members(self) -> frozenset[str]:
        return self._members

    def on_change(self, listener: MembershipListener) -> None:
        """Nothing ever changes."""

    async def __aenter__(self) -> StaticMembership:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None
