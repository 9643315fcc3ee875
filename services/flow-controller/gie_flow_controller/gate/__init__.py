"""The dispatch gate: whether a queued request's endpoints have capacity now.

:class:`CapacityGate` applies upstream's saturation rule to the request's candidates,
from the pool view folded from the event stream, and answers the room they show; the
flow state checks that room pool-wide when it dispatches. Head-of-line: a shard worker
whose chosen request has no room waits (it does not skip to other requests).
"""

from __future__ import annotations

from gie_flow_controller.gate.capacity_gate import CapacityGate, Gate, OpenGate

__all__ = ["CapacityGate", "Gate", "OpenGate"]
