"""Which strategy writes which kind (built per resource type, on demand)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from gie_cli.kube.crd_strategy import CrdStrategy
from gie_cli.kube.custom_resource_strategy import CustomResourceStrategy
from gie_cli.kube.namespace_strategy import NamespaceStrategy
from gie_cli.kube.pod_strategy import PodStrategy
from gie_cli.kube.resource_types import CRD_TYPE, NAMESPACE_TYPE, POD_TYPE, ResourceType
from gie_cli.kube.strategy import Strategy

__all__ = ["strategy_for"]


def strategy_for(rtype: ResourceType, now: Callable[[], datetime]) -> Strategy:
    """The strategy of ``rtype`` (a custom resource's follows its current CRD)."""
    if not rtype.builtin:
        return CustomResourceStrategy(rtype)
    if rtype.key == POD_TYPE.key:
        return PodStrategy(rtype)
    if rtype.key == NAMESPACE_TYPE.key:
        return NamespaceStrategy(rtype)
    if rtype.key == CRD_TYPE.key:
        return CrdStrategy(rtype, now)
    return Strategy(rtype)
