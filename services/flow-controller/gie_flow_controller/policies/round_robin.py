"""``round-robin``: serve the band's backlogged flows in turn."""

from __future__ import annotations

from typing import ClassVar

from gie.flowcontrol.policy_parameters import ROUND_ROBIN
from gie_flow_controller.model import BandView, FlowQueue
from gie_flow_controller.policies.parameterless import ParameterlessPolicy


class RoundRobin(ParameterlessPolicy):
    """The first flow (by fairness id) after the one served last, wrapping around.

    While a set of flows stays backlogged, each is served once per turn: between two
    dispatches of one flow every other backlogged flow is served at most once.
    """

    TYPE: ClassVar[str] = ROUND_ROBIN

    def pick_flow(self, band: BandView) -> FlowQueue | None:
        flows = [flow for flow in band.flows if flow.head]
        if not flows:
            return None
        if band.cursor is not None:
            for flow in flows:  # sorted by fairness id
                if flow.fairness_id > band.cursor:
                    return flow
        return flows[0]
