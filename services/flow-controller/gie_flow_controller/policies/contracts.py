"""What a flow-control policy is.

Two tiers, as upstream: a **fairness** (inter-flow) policy picks which backlogged flow
of a band is served next; an **ordering** (intra-flow) policy picks which request of
that flow. Policies are pure functions of a :class:`~gie_flow_controller.model.BandView`:
whatever state they need (the round-robin cursor, the virtual token counters) lives in
the flow state, so any replica that takes a shard over continues the same order.
Policies MUST NOT do I/O and MUST be safe to call from any task.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

from gie_flow_controller.model import BandView, FlowQueue, QueuedRequest


class FairnessPolicy(Protocol):
    """Chooses the next flow of a band."""

    TYPE: ClassVar[str]

    @property
    def name(self) -> str: ...

    def pick_flow(self, band: BandView) -> FlowQueue | None:
        """The flow to serve next; None only when no flow has a request to offer."""


class OrderingPolicy(Protocol):
    """Chooses the next request of a flow among the first ``window`` of its queue."""

    TYPE: ClassVar[str]

    @property
    def name(self) -> str: ...

    @property
    def window(self) -> int:
        """How many requests from the front of a queue the policy needs to see (>= 1)."""

    def pick_request(self, queue: FlowQueue) -> QueuedRequest | None: ...
