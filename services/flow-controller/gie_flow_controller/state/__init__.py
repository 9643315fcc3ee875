"""The flow state: queues, counters, leases and in-flight sets of one pool.

``FlowStore`` (in :mod:`.contracts`) is the port. :class:`RedisFlowStore` keeps the
state in Redis and changes it only through Lua scripts (``lua/``), so every step is
atomic whichever replica takes it; :class:`RedisNotifications` relays its pub/sub
notices. :class:`MemoryFlowStore` (over :class:`MemoryFlowState`) is the in-process
model with the same contract. Stores are safe to share between the tasks of one loop.
"""

from __future__ import annotations

from gie_flow_controller.state.contracts import (
    Collected,
    FlowStats,
    FlowStore,
    Notifications,
    OutcomeListener,
    StoreSettings,
    WakeListener,
)
from gie_flow_controller.state.keys import PoolKeys, pool_prefix
from gie_flow_controller.state.memory_state import MemoryFlowState
from gie_flow_controller.state.memory_store import MemoryFlowStore
from gie_flow_controller.state.redis_notifications import RedisNotifications
from gie_flow_controller.state.redis_store import RedisFlowStore

__all__ = [
    "Collected",
    "FlowStats",
    "FlowStore",
    "MemoryFlowState",
    "MemoryFlowStore",
    "Notifications",
    "OutcomeListener",
    "PoolKeys",
    "RedisFlowStore",
    "RedisNotifications",
    "StoreSettings",
    "WakeListener",
    "pool_prefix",
]
