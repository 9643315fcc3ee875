"""``fcfs``: first come, first served within a flow."""

from __future__ import annotations

from typing import ClassVar

from gie.flowcontrol.policy_parameters import FCFS
from gie_flow_controller.model import FlowQueue, QueuedRequest
from gie_flow_controller.policies.parameterless import ParameterlessPolicy


class FirstComeFirstServed(ParameterlessPolicy):
    """The request at the front of the flow's queue (queues keep arrival order)."""

    TYPE: ClassVar[str] = FCFS

    @property
    def window(self) -> int:
        return 1

    def pick_request(self, queue: FlowQueue) -> QueuedRequest | None:
        return queue.head[0] if queue.head else None
