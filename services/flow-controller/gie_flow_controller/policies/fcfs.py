"""``fcfs``: first come, first served within a flow."""

from __future__ import annotations

from typing import ClassVar

from gie.flowcontrol.policy_parameters import FCFS, NoParameters
from gie_flow_controller.model import FlowQueue, QueuedRequest


class FirstComeFirstServed:
    """The request at the front of the flow's queue (queues keep arrival order)."""

    TYPE: ClassVar[str] = FCFS

    def __init__(self, name: str = TYPE) -> None:
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def window(self) -> int:
        return 1

    @classmethod
    def create(cls, name: str, params: NoParameters) -> FirstComeFirstServed:
        return cls(name)

    def pick_request(self, queue: FlowQueue) -> QueuedRequest | None:
        return queue.head[0] if queue.head else None
