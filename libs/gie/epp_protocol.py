"""The names of the Endpoint Picker protocol: the headers and dynamic metadata an
Envoy-based gateway and the picker exchange (upstream's EPP protocol, REFERENCE §1).

One definition for every part that speaks the protocol: the picker (answers), the
local stack's Envoy configuration and test hooks, and the benchmarks' bare server.
The fairness header lives with the flow key (:mod:`gie.flowcontrol`).
"""

from __future__ import annotations

__all__ = [
    "DESTINATION_HEADER",
    "LB_NAMESPACE",
    "MODEL_REWRITE_HEADER",
    "OBJECTIVE_HEADER",
    "REQUEST_ID_HEADER",
    "SERVED_KEY",
    "SUBSET_KEY",
    "SUBSET_NAMESPACE",
]

# The picker's answer: the chosen endpoint, then fallbacks, as a header and as the
# same key in the ``envoy.lb`` dynamic metadata namespace.
DESTINATION_HEADER = "x-gateway-destination-endpoint"
LB_NAMESPACE = "envoy.lb"
# The gateway's subset hint: the endpoints the picker may choose from.
SUBSET_NAMESPACE = "envoy.lb.subset_hint"
SUBSET_KEY = "x-gateway-destination-endpoint-subset"
# The endpoint that actually served the request, reported back by the gateway.
SERVED_KEY = "x-gateway-destination-endpoint-served"
# Request headers the gateway may set for the picker (read, never forwarded upstream).
OBJECTIVE_HEADER = "x-gateway-inference-objective"
MODEL_REWRITE_HEADER = "x-gateway-model-name-rewrite"
REQUEST_ID_HEADER = "x-request-id"
