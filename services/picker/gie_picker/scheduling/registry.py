"""The plugin registry: plugin type name -> factory and parameters model.

One registry style for every plugin, the kernel's (:mod:`gie.registry`, which the
flow-controller's policies use too): ``registry.register("queue-scorer",
QueueScorer.create, NoParameters)`` raises on a duplicate type name. Built-in
plugins are registered explicitly by :func:`register_builtins`; importing a
plugin module registers nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast

from gie.registry import DuplicateTypeError, Registry
from gie_picker.scheduling.contracts import Plugin, PluginContext
from gie_picker.scheduling.errors import DuplicatePluginTypeError
from gie_picker.scheduling.parameters import PluginParameters

P = TypeVar("P", bound=PluginParameters)

PluginFactory = Callable[[str, P, PluginContext], Plugin]


@dataclass(frozen=True, slots=True)
class PluginEntry:
    """One registered plugin type."""

    type_name: str
    factory: PluginFactory[PluginParameters]
    params_model: type[PluginParameters]

    def create(self, name: str, params: PluginParameters, context: PluginContext) -> Plugin:
        """A new plugin instance named ``name``; ``params`` must be of ``params_model``."""
        if not isinstance(params, self.params_model):
            raise TypeError(f"{self.type_name}: parameters must be {self.params_model.__name__}")
        return self.factory(name, params, context)


class PluginRegistry:
    """Plugin types known to a picker process: the kernel's
    :class:`~gie.registry.Registry`, with the scheduler's duplicate error."""

    def __init__(self) -> None:
        self._registry = Registry[PluginEntry]("plugin type")

    def register(self, type_name: str, factory: PluginFactory[P], params_model: type[P]) -> None:
        """Make ``type_name`` available to configs; DuplicatePluginTypeError if known."""
        erased = cast(PluginFactory[PluginParameters], factory)
        try:
            self._registry.register(type_name, PluginEntry(type_name, erased, params_model))
        except DuplicateTypeError as exc:
            raise DuplicatePluginTypeError(str(exc)) from exc

    def get(self, type_name: str) -> PluginEntry | None:
        return self._registry.get(type_name)

    def types(self) -> list[str]:
        """Every registered type name, sorted."""
        return self._registry.types()

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._registry
