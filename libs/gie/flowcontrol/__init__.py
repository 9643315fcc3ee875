"""The flow-control contract shared by the picker and the flow-controller.

* :class:`FlowKey` names a flow (fairness id and priority); :class:`Outcome` is what
  becomes of an admitted request.
* :class:`FlowControlConfig` is the ``flowControl`` section of an EndpointPickerConfig
  (bands, policies, limits, TTLs, shard count), validated strictly.
* ``v1/flow_control.proto`` is the ``FlowControl`` gRPC service, with generated stubs
  (``python -m gie.flowcontrol.codegen`` regenerates them).
* :class:`FlowControlClient` calls ``Admit`` with failover between replicas;
  :class:`AdmitRequest` / :class:`AdmitResult` are its Python values.
* :class:`BacklogView` folds the ``flow.*`` events into requests waiting per band (the
  picker's fast path: no backlog at or above a request's band).

Everything here is pure data, validation and folds (one task feeds a view) except the
client, which runs on one asyncio event loop (concurrent calls are fine). Errors are
drawn in :mod:`.errors`.
"""

from __future__ import annotations

from gie.flowcontrol.backlog import BacklogView
from gie.flowcontrol.client import FlowControlClient
from gie.flowcontrol.config import BandSettings, BandTemplate, FlowControlConfig, PriorityBandConfig
from gie.flowcontrol.errors import (
    FlowControlCallError,
    FlowControlStateLostError,
    FlowControlTimeoutError,
    FlowControlUnavailableError,
    GieFlowControlError,
    InvalidAdmitRequestError,
)
from gie.flowcontrol.flow_key import (
    DEFAULT_FAIRNESS_ID,
    FAIRNESS_ID_HEADER,
    MAX_ID_LENGTH,
    FlowKey,
    check_id,
)
from gie.flowcontrol.messages import AdmitRequest, AdmitResult
from gie.flowcontrol.outcome import Outcome

__all__ = [
    "DEFAULT_FAIRNESS_ID",
    "FAIRNESS_ID_HEADER",
    "MAX_ID_LENGTH",
    "AdmitRequest",
    "AdmitResult",
    "BacklogView",
    "BandSettings",
    "BandTemplate",
    "FlowControlCallError",
    "FlowControlClient",
    "FlowControlConfig",
    "FlowControlStateLostError",
    "FlowControlTimeoutError",
    "FlowControlUnavailableError",
    "FlowKey",
    "GieFlowControlError",
    "InvalidAdmitRequestError",
    "Outcome",
    "PriorityBandConfig",
    "check_id",
]
