"""``virtual-token-fairness``: the Virtual Token Counter (VTC, OSDI'24).

Each flow has a counter of the weighted tokens it was served (input and output tokens
weighted by the band's ``inputTokenWeight`` / ``outputTokenWeight``). The backlogged
flow with the smallest counter is served next. The flow state keeps the counters: it
charges the token estimate at dispatch, corrects it by the usage in
``RequestCompleted``, and lifts a flow that becomes backlogged again to the smallest
counter of the band's backlogged flows, so idle time earns no credit. While flows stay
backlogged their counters differ by at most one request's charge.
"""

from __future__ import annotations

from typing import ClassVar

from gie.flowcontrol.policy_parameters import VIRTUAL_TOKEN_FAIRNESS, VirtualTokenFairnessParameters
from gie_flow_controller.model import BandView, FlowQueue


class VirtualTokenFairness:
    """The backlogged flow with the smallest counter (ties: earliest head, fairness id)."""

    TYPE: ClassVar[str] = VIRTUAL_TOKEN_FAIRNESS

    def __init__(
        self, name: str = TYPE, params: VirtualTokenFairnessParameters | None = None
    ) -> None:
        self._name = name
        self.params = params or VirtualTokenFairnessParameters()

    @property
    def name(self) -> str:
        return self._name

    @classmethod
    def create(cls, name: str, params: VirtualTokenFairnessParameters) -> VirtualTokenFairness:
        return cls(name, params)

    def pick_flow(self, band: BandView) -> FlowQueue | None:
        flows = [flow for flow in band.flows if flow.head]
        if not flows:
            return None
        return min(
            flows, key=lambda flow: (flow.counter, flow.head[0].enqueued_ms, flow.fairness_id)
        )
