"""A registry of named types: type name -> what builds one (a factory, or an entry
holding a factory and its parameters model).

gie's one registry style, for the picker's scheduling plugins and the flow-controller's
policies alike: ``registry.register("queue-scorer", factory)`` raises on a name already
taken; looking up a name nobody registered raises an error naming it and listing the
known ones. Built-ins are registered explicitly at start-up, never by importing a module.

::

    RegistryError
    ├── DuplicateTypeError   a type name was registered twice (a start-up bug)
    └── UnknownTypeError     no type of that name is registered (also a LookupError)

A service wraps a :class:`Registry` when its callers expect its own error types, and
translates these errors at that boundary. Not thread-safe: filled once at start-up, read
afterwards from one event loop.
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["DuplicateTypeError", "Registry", "RegistryError", "UnknownTypeError"]

T = TypeVar("T")


class RegistryError(Exception):
    """Base of the registry's errors."""


class DuplicateTypeError(RegistryError):
    """A type name was registered twice."""


class UnknownTypeError(RegistryError, LookupError):
    """No type of that name is registered."""


class Registry(Generic[T]):
    """Type names of one kind (``"plugin type"``, ``"fairness policy"``) and what each
    is built with; ``kind`` is how error messages name them."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, T] = {}

    def register(self, type_name: str, factory: T) -> None:
        """Make ``type_name`` known; DuplicateTypeError if it already is."""
        if type_name in self._factories:
            raise DuplicateTypeError(f"{self.kind} {type_name!r} is already registered")
        self._factories[type_name] = factory

    def get(self, type_name: str) -> T | None:
        """What ``type_name`` is built with, or None if it is unknown."""
        return self._factories.get(type_name)

    def lookup(self, type_name: str) -> T:
        """What ``type_name`` is built with; UnknownTypeError, listing the known types,
        if it is unknown."""
        try:
            return self._factories[type_name]
        except KeyError:
            known = ", ".join(self.types()) or "none"
            raise UnknownTypeError(
                f"no {self.kind} {type_name!r} is registered (known: {known})"
            ) from None

    def types(self) -> list[str]:
        """Every registered type name, sorted."""
        return sorted(self._factories)

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._factories

    def __len__(self) -> int:
        return len(self._factories)
