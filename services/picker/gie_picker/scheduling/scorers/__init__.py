"""Built-in scorers: each scores candidates in [0, 1], 1 best."""

from __future__ import annotations

from gie_picker.scheduling.scorers.active_request_scorer import (
    ActiveRequestParameters,
    ActiveRequestScorer,
)
from gie_picker.scheduling.scorers.kv_cache_utilization_scorer import KVCacheUtilizationScorer
from gie_picker.scheduling.scorers.lora_affinity_scorer import LoraAffinityScorer
from gie_picker.scheduling.scorers.prefix_cache_scorer import (
    PrefixCacheParameters,
    PrefixCacheScorer,
)
from gie_picker.scheduling.scorers.queue_scorer import QueueScorer

__all__ = [
    "ActiveRequestParameters",
    "ActiveRequestScorer",
    "KVCacheUtilizationScorer",
    "LoraAffinityScorer",
    "PrefixCacheParameters",
    "PrefixCacheScorer",
    "QueueScorer",
]
