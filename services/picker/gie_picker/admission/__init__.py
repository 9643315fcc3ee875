"""Admission: whether a request may go on to scheduling now.

Without flow control the director sheds sheddable requests (negative
priority) while the pool is saturated; when every endpoint's metrics are stale
it judges saturation by the requests in flight instead
(:mod:`~gie_picker.admission.saturation_fallback`). With the ``flowControl``
feature gate the :class:`FlowGate` decides: a request goes straight on when the
pool has room and nothing of its band or a higher one is queued, else it waits
for the flow-controller's verdict (:mod:`~gie_picker.admission.flow_gate`).

Concurrency: everything here runs on the service's event loop, called by the
director; :meth:`FlowGate.admit` is the one step that may wait (on the
flow-controller, over gRPC), and the saturation fallback is a pure function.
"""

from __future__ import annotations

from gie_picker.admission.flow_gate import FlowGate
from gie_picker.admission.saturation_fallback import inflight_capacity, inflight_saturation

__all__ = ["FlowGate", "inflight_capacity", "inflight_saturation"]
