"""The names of gie's completion records: how a gateway reports a request's end.

By default the picker does not see responses. The gateway (Envoy) reads the token
usage out of the response itself into dynamic metadata (``sse_to_metadata`` for
streamed responses, ``json_to_metadata`` for JSON ones) and sends one access-log
record per request, in batches, over the gRPC access-log service to the picker,
which turns it into ``RequestCompleted``. The routing answer names the request in
dynamic metadata, so whichever picker process receives the record can complete it.

One definition for both sides: the picker (answers and the record reader) and the
Envoy configurations that produce the records (local stack, chart).
"""

from __future__ import annotations

__all__ = [
    "ACCESS_LOG_NAME",
    "CACHED_TOKENS_KEY",
    "COMPLETION_TOKENS_KEY",
    "MODEL_KEY",
    "PROMPT_TOKENS_KEY",
    "REQUEST_ID_KEY",
    "ROUTE_NAMESPACE",
    "TARGET_MODEL_KEY",
    "USAGE_NAMESPACE",
    "USAGE_PATHS",
]

# The access log's name in the records' identifier (``log_name``).
ACCESS_LOG_NAME = "gie-completions"

# Set by the picker on the routing answer (ext_proc ``receiving_namespaces`` must list it).
ROUTE_NAMESPACE = "gie.route"
REQUEST_ID_KEY = "request_id"
MODEL_KEY = "model"
TARGET_MODEL_KEY = "target_model"

# Set by the gateway's body-to-metadata filters from the response's ``usage``.
USAGE_NAMESPACE = "gie.usage"
PROMPT_TOKENS_KEY = "prompt_tokens"
COMPLETION_TOKENS_KEY = "completion_tokens"
CACHED_TOKENS_KEY = "cached_tokens"
# metadata key -> JSON path of the value in a completion (or its last SSE chunk)
USAGE_PATHS: dict[str, tuple[str, ...]] = {
    PROMPT_TOKENS_KEY: ("usage", "prompt_tokens"),
    COMPLETION_TOKENS_KEY: ("usage", "completion_tokens"),
    CACHED_TOKENS_KEY: ("usage", "prompt_tokens_details", "cached_tokens"),
}
