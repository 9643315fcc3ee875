"""Policy registries: policy type name -> factory and parameters model.

gie's one registry style (:mod:`gie.registry`, which the picker's plugins use too):
``registry.register("round-robin", RoundRobin.create, NoParameters)`` raises on a
duplicate type name; built-ins are registered explicitly by
:func:`~gie_flow_controller.policies.builtins.builtin_policies`, never by importing a
module. One registry per policy tier.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from gie.flowcontrol.policy_parameters import PolicyParameters
from gie.registry import DuplicateTypeError, Registry, UnknownTypeError
from gie_flow_controller.errors import DuplicatePolicyError, UnknownPolicyError
from gie_flow_controller.policies.contracts import FairnessPolicy, OrderingPolicy

T = TypeVar("T")
P = TypeVar("P", bound=PolicyParameters)

PolicyFactory = Callable[[str, P], T]


@dataclass(frozen=True, slots=True)
class PolicyEntry(Generic[T]):
    """One registered policy type."""

    type_name: str
    factory: PolicyFactory[PolicyParameters, T]
    params_model: type[PolicyParameters]

    def create(self, name: str, params: PolicyParameters) -> T:
        """A new policy named ``name``; ``params`` must be of ``params_model``."""
        if not isinstance(params, self.params_model):
            raise TypeError(f"{self.type_name}: parameters must be {self.params_model.__name__}")
        return self.factory(name, params)


class PolicyRegistry(Generic[T]):
    """Policy types of one tier known to a flow-controller process: the kernel's
    :class:`~gie.registry.Registry`, with the flow-controller's errors."""

    def __init__(self, tier: str) -> None:
        self.tier = tier
        self._registry = Registry[PolicyEntry[T]](f"{tier} policy")

    def register(self, type_name: str, factory: PolicyFactory[P, T], params_model: type[P]) -> None:
        """Make ``type_name`` available to configs; DuplicatePolicyError if known."""
        erased = cast(PolicyFactory[PolicyParameters, T], factory)
        try:
            self._registry.register(type_name, PolicyEntry(type_name, erased, params_model))
        except DuplicateTypeError as exc:
            raise DuplicatePolicyError(str(exc)) from exc

    def create(self, type_name: str, params: PolicyParameters) -> T:
        """A new policy of ``type_name``; UnknownPolicyError, listing the known ones, if
        no such policy is registered."""
        try:
            entry = self._registry.lookup(type_name)
        except UnknownTypeError as exc:
            raise UnknownPolicyError(str(exc)) from exc
        return entry.create(type_name, params)

    def types(self) -> list[str]:
        """Every registered type name, sorted."""
        return self._registry.types()

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._registry


@dataclass(frozen=True, slots=True)
class Policies:
    """The registries of both tiers."""

    fairness: PolicyRegistry[FairnessPolicy]
    ordering: PolicyRegistry[OrderingPolicy]
