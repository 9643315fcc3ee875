"""``round-robin``: serve the band's backlogged flows in turn."""

from __future__ import annotations

from typing import ClassVar

from gie.flowcontrol.policy_parameters import ROUND_ROBIN, NoParameters
from gie_flow_controller.model import BandView, FlowQueue


class RoundRobin:
    """The first flow (by fairness id) after the one served last, wrapping around.

    While a set of flows stays backlogged, each is served once per turn: between two
    dispatches of one flow every other backlogged flow is served at most once.
    """

    TYPE: ClassVar[str] = ROUND_ROBIN

    def __init__(self, name: str = TYPE) -> None:
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @classmethod
    def create(cls, name: str, params: NoParameters) -> RoundRobin:
        return cls(name)

    def pick_flow(self, band: BandView) -> FlowQueue | None:
        flows = [flow for flow in band.flows if flow.head]
        if not flows:
            return None
        if band.cursor is not None:
            for flow in flows:  # sorted by fairness id
                if flow.fairness_id > band.cursor:
                    return flow
        return flows[0]
