"""Shards of queued work, each owned by one replica at a time through a Redis lease.

:class:`ShardSupervisor` (one per replica) claims, renews, balances and releases
shards; it runs one :class:`ShardWorker` task per owned shard, which runs the dispatch
loop. Dispatch is fenced by the lease in the Lua step itself, so a replica that lost a
shard cannot dispatch from it even before it notices.
"""

from __future__ import annotations

from gie_flow_controller.sharding.supervisor import ShardSupervisor
from gie_flow_controller.sharding.worker import ShardWorker

__all__ = ["ShardSupervisor", "ShardWorker"]
