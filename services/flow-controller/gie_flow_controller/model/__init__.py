"""The flow-control model: snapshots policies choose from, and the records of the state.

Pure values, no I/O. :class:`BandTable` resolves each priority's band settings once.
"""

from __future__ import annotations

from gie_flow_controller.model.bands import BandTable
from gie_flow_controller.model.records import (
    Admission,
    AdmitStatus,
    DispatchResult,
    DispatchStatus,
    Finished,
    Limits,
    Room,
    Ticket,
    TokenWeights,
)
from gie_flow_controller.model.snapshot import BandView, FlowQueue, QueuedRequest, ShardSnapshot

__all__ = [
    "Admission",
    "AdmitStatus",
    "BandTable",
    "BandView",
    "DispatchResult",
    "DispatchStatus",
    "Finished",
    "FlowQueue",
    "Limits",
    "QueuedRequest",
    "Room",
    "ShardSnapshot",
    "Ticket",
    "TokenWeights",
]
