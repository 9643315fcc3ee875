"""``best-head``: serve the flow whose head request came first (upstream's default)."""

from __future__ import annotations

from typing import ClassVar

from gie.flowcontrol.policy_parameters import BEST_HEAD
from gie_flow_controller.model import BandView, FlowQueue
from gie_flow_controller.policies.parameterless import ParameterlessPolicy


class BestHead(ParameterlessPolicy):
    """The flow whose first queued request was enqueued earliest (ties: fairness id).

    With FCFS inside flows this serves the band in global arrival order.
    """

    TYPE: ClassVar[str] = BEST_HEAD

    def pick_flow(self, band: BandView) -> FlowQueue | None:
        flows = [flow for flow in band.flows if flow.head]
        if not flows:
            return None
        return min(flows, key=lambda flow: (flow.head[0].enqueued_ms, flow.fairness_id))
