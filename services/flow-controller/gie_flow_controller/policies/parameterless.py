"""What the built-in policies without parameters share: a type, a name, ``create``."""

from __future__ import annotations

from typing import ClassVar, Self

from gie.flowcontrol.policy_parameters import NoParameters


class ParameterlessPolicy:
    """Base of the policies configured by type and name alone; subclasses set ``TYPE``."""

    TYPE: ClassVar[str] = ""

    def __init__(self, name: str = "") -> None:
        self._name = name or self.TYPE

    @property
    def name(self) -> str:
        return self._name

    @classmethod
    def create(cls, name: str, params: NoParameters) -> Self:
        return cls(name)
