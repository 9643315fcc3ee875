"""Flow-control policies: fairness between flows of a band, ordering within a flow.

Built-ins: ``round-robin``, ``best-head`` and ``virtual-token-fairness`` (fairness),
``fcfs`` (ordering), one per file, registered by :func:`builtin_policies`.
:func:`choose` is the one dispatch decision, used by the shard workers and by the
in-memory model alike. Policies are pure; see :mod:`.contracts`.
"""

from __future__ import annotations

from gie_flow_controller.policies.best_head import BestHead
from gie_flow_controller.policies.builtins import builtin_policies, register_builtins
from gie_flow_controller.policies.contracts import FairnessPolicy, OrderingPolicy
from gie_flow_controller.policies.fcfs import FirstComeFirstServed
from gie_flow_controller.policies.registry import Policies, PolicyRegistry
from gie_flow_controller.policies.round_robin import RoundRobin
from gie_flow_controller.policies.selection import BandPolicies, PolicySet, choose
from gie_flow_controller.policies.virtual_token_fairness import VirtualTokenFairness

__all__ = [
    "BandPolicies",
    "BestHead",
    "FairnessPolicy",
    "FirstComeFirstServed",
    "OrderingPolicy",
    "Policies",
    "PolicyRegistry",
    "PolicySet",
    "RoundRobin",
    "VirtualTokenFairness",
    "builtin_policies",
    "choose",
    "register_builtins",
]
