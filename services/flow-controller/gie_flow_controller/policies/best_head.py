"""``best-head``: serve the flow whose head request came first (upstream's default)."""

from __future__ import annotations

from typing import ClassVar

from gie.flowcontrol.policy_parameters import BEST_HEAD, NoParameters
from gie_flow_controller.model import BandView, FlowQueue


class BestHead:
    """The flow whose first queued request was enqueued earliest (ties: fairness id).

    With FCFS inside flows this serves the band in global arrival order.
    """

    TYPE: ClassVar[str] = BEST_HEAD

    def __init__(self, name: str = TYPE) -> None:
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @classmethod
    def create(cls, name: str, params: NoParameters) -> BestHead:
        return cls(name)

    def pick_flow(self, band: BandView) -> FlowQueue | None:
        flows = [flow for flow in band.flows if flow.head]
        if not flows:
            return None
        return min(flows, key=lambda flow: (flow.head[0].enqueued_ms, flow.fairness_id))
