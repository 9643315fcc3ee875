"""The pool as a whole: saturation (upstream's rule, with a cause), its config, gauges."""

from __future__ import annotations

from gie_metrics_collector.pool.config_file import load_saturation_config
from gie_metrics_collector.pool.pool_gauges import PoolGauges
from gie_metrics_collector.pool.pool_state import CAUSES, PoolState, assess_pool, cause_of_reason
from gie_metrics_collector.pool.saturation_monitor import SaturationMonitor

__all__ = [
    "CAUSES",
    "PoolGauges",
    "PoolState",
    "SaturationMonitor",
    "assess_pool",
    "cause_of_reason",
    "load_saturation_config",
]
