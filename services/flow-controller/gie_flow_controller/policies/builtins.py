"""The built-in policies, registered explicitly (no import side effects)."""

from __future__ import annotations

from gie.flowcontrol.policy_parameters import NoParameters, VirtualTokenFairnessParameters
from gie_flow_controller.policies.best_head import BestHead
from gie_flow_controller.policies.contracts import FairnessPolicy, OrderingPolicy
from gie_flow_controller.policies.fcfs import FirstComeFirstServed
from gie_flow_controller.policies.registry import Policies, PolicyRegistry
from gie_flow_controller.policies.round_robin import RoundRobin
from gie_flow_controller.policies.virtual_token_fairness import VirtualTokenFairness


def register_builtins(policies: Policies) -> None:
    """Add every built-in policy type to ``policies``."""
    policies.fairness.register(RoundRobin.TYPE, RoundRobin.create, NoParameters)
    policies.fairness.register(BestHead.TYPE, BestHead.create, NoParameters)
    policies.fairness.register(
        VirtualTokenFairness.TYPE, VirtualTokenFairness.create, VirtualTokenFairnessParameters
    )
    policies.ordering.register(FirstComeFirstServed.TYPE, FirstComeFirstServed.create, NoParameters)


def builtin_policies() -> Policies:
    """Fresh registries holding the built-in policies."""
    policies = Policies(
        fairness=PolicyRegistry[FairnessPolicy]("fairness"),
        ordering=PolicyRegistry[OrderingPolicy]("ordering"),
    )
    register_builtins(policies)
    return policies
