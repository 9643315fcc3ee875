"""Built-in scorers: each scores candidates in [0, 1], 1 best."""

from __future__ import annotations

from gie_picker.scheduling.scorers.active_request_scorer import (
    ActiveRequestParameters,
    ActiveRequestScorer,
)
from gie_picker.scheduling.scorers.kv_cache_utilization_scorer import KVCacheUtilizationScorer
from gie_picker.scheduling.scorers.lora_affinity_scorer import LoraAffinityScorer
from gie_picker.scheduling.scorers.no_hit_lru_scorer import NoHitLRUScorer
from gie_picker.scheduling.scorers.precise_prefix_cache_scorer import (
    PrecisePrefixCacheParameters,
    PrecisePrefixCacheScorer,
)
from gie_picker.scheduling.scorers.prefix_cache_scorer import (
    PrefixCacheParameters,
    PrefixCacheScorer,
)
from gie_picker.scheduling.scorers.queue_scorer import QueueScorer
from gie_picker.scheduling.scorers.session_affinity_scorer import (
    SessionAffinityParameters,
    SessionAffinityScorer,
)

__all__ = [
    "ActiveRequestParameters",
    "ActiveRequestScorer",
    "KVCacheUtilizationScorer",
    "LoraAffinityScorer",
    "NoHitLRUScorer",
    "PrecisePrefixCacheParameters",
    "PrecisePrefixCacheScorer",
    "PrefixCacheParameters",
    "PrefixCacheScorer",
    "QueueScorer",
    "SessionAffinityParameters",
    "SessionAffinityScorer",
]
