"""What each published field means, for the schemas' ``description`` and the docs.

Keyed by model (event types and the objects nested in them), then field; the
envelope's fields are in :data:`gie.schemas.json_schema.ENVELOPE_FIELDS`. A field's own
pydantic ``description``, when a model gives one, wins. A test requires every field of
every built-in type to be described here or there, and every entry to name a field.
"""

from __future__ import annotations

FIELD_DOCS: dict[str, dict[str, str]] = {
    "EndpointUpserted": {"endpoint": "The endpoint, as now known."},
    "Endpoint": {
        "address": "Where the endpoint serves: `ip:port`, `[v6]:port` or `host:port`.",
        "name": "The pod's name; empty when unknown.",
        "labels": "The pod's labels.",
    },
    "EndpointRemoved": {"address": "The endpoint that left the pool."},
    "EndpointMetricsObserved": {
        "address": "The endpoint scraped.",
        "scraped_at": "When the scrape was taken; consumers keep the newest per address.",
        "metrics": "What the scrape read.",
    },
    "EndpointMetrics": {
        "waiting_queue_size": "Requests waiting in the model server's queue.",
        "running_requests": "Requests the model server is serving.",
        "kv_cache_usage": "Fraction of the KV cache in use, 0 to 1.",
        "kv_block_size": "Tokens per KV-cache block; null when the server does not say.",
        "kv_num_blocks": "KV-cache blocks of the server; null when it does not say.",
        "prefix_cache_hits": "The server's prefix-cache hit counter; null when absent.",
        "prefix_cache_queries": "The server's prefix-cache query counter; null when absent.",
        "lora_running": "LoRA adapters of running requests.",
        "lora_waiting": "LoRA adapters of waiting requests.",
        "max_lora": "How many LoRA adapters the server holds at once; null when unknown.",
    },
    "RequestRouted": {
        "request_id": "The request's id (its `x-request-id`).",
        "model": "The model the request asked for.",
        "target": "The endpoint the request was sent to.",
        "fallbacks": "Endpoints to try next, in order, if the target fails.",
        "picker": "Instance id of the picker replica that decided.",
        "prompt_bytes": "Size of the request body, in bytes.",
        "block_hashes": (
            "The prompt's chained prefix-block hashes: base64 of little-endian uint64 "
            "values; empty when none."
        ),
        "prefix_capacity": "The prefix-index capacity (blocks) used for the target, or null.",
        "session": "A hash of the client's session header (never its value); null when absent.",
        "publisher_seq": (
            "1, 2, 3, ... per picker instance over its RequestRouted events: a jump shows "
            "lost events; null when the publisher does not number them."
        ),
    },
    "RequestCompleted": {
        "request_id": "The request's id, as in its RequestRouted.",
        "target": "The endpoint that served the request.",
        "picker": "Instance id of the picker replica that saw it finish.",
        "status": "HTTP status of the response; 0 when the stream ended before a response.",
        "prompt_tokens": "Prompt tokens the model server reported; null when no usage was.",
        "completion_tokens": "Completion tokens reported; null when no usage was reported.",
        "cached_tokens": "Prompt tokens served from the prefix cache; null when not reported.",
        "duration_s": "Seconds from routing to the end of the response.",
        "publisher_seq": (
            "1, 2, 3, ... per picker instance over its RequestCompleted events: a jump "
            "shows lost events; null when the publisher does not number them."
        ),
    },
    "ObjectiveUpserted": {
        "name": "The InferenceObjective's name.",
        "priority": "Higher is more important; negative marks its requests sheddable.",
    },
    "ObjectiveRemoved": {"name": "The InferenceObjective's name."},
    "ModelRewriteUpserted": {
        "name": "The InferenceModelRewrite's name.",
        "created": "Its creation time: the oldest rewrite breaks ties between equal matches.",
        "rules": "Its rules, in order.",
    },
    "RewriteRule": {
        "matches": "Models this rule applies to; empty means every request.",
        "targets": "The models a matching request may become.",
    },
    "RewriteTarget": {
        "model": "The model a request is rewritten to.",
        "weight": "Share of the rule's requests; set on every target of a rule or on none.",
    },
    "ModelRewriteRemoved": {"name": "The InferenceModelRewrite's name."},
    "PoolSaturationChanged": {
        "saturated": "Whether no endpoint has capacity now.",
        "endpoints_with_capacity": "Endpoints below the saturation thresholds.",
        "endpoints_total": "Endpoints of the pool.",
        "reason": "Why, in words.",
    },
    "RequestQueued": {
        "request_id": "The request's id.",
        "fairness_id": "The flow's fairness id (`x-gateway-inference-fairness-id`).",
        "priority": "The flow's priority band (from its InferenceObjective).",
        "shard": "The flow-controller shard holding the queue.",
        "byte_size": "Size of the request body, in bytes.",
        "input_tokens": "Estimated prompt tokens.",
        "output_tokens": "Estimated completion tokens.",
        "expires_at": "When the request's TTL or deadline passes; null when it has none.",
    },
    "RequestDispatched": {
        "request_id": "The request's id.",
        "fairness_id": "The flow's fairness id.",
        "priority": "The flow's priority band.",
        "shard": "The flow-controller shard that held the queue.",
        "queued_s": "Seconds the request waited.",
        "charge": "What the flow's fairness counter was charged (weighted tokens).",
    },
    "RequestRejected": {
        "request_id": "The request's id.",
        "fairness_id": "The flow's fairness id.",
        "priority": "The flow's priority band.",
        "byte_size": "Size of the request body, in bytes.",
        "reason": (
            "The limit reached: `band-bytes`, `band-requests`, `pool-bytes`, "
            "`pool-requests` (open: more may come)."
        ),
    },
    "RequestEvicted": {
        "request_id": "The request's id.",
        "fairness_id": "The flow's fairness id.",
        "priority": "The flow's priority band.",
        "shard": "The flow-controller shard that held the queue.",
        "queued_s": "Seconds the request waited.",
        "reason": "`ttl`, `cancelled` or `displaced` (open: more may come).",
        "outcome": "The upstream outcome name, e.g. `EvictedTTL`, `RejectedCapacity`.",
    },
}
