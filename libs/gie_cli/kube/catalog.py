"""The catalog of served resource types: the built-in ones and those CRDs register."""

from __future__ import annotations

from dataclasses import dataclass

from gie_cli.kube.resource_types import (
    BUILTIN_TYPES,
    ResourceType,
    VersionSpec,
    version_priority,
)

__all__ = ["Catalog", "GroupVersions"]


@dataclass(frozen=True, slots=True)
class GroupVersions:
    """A group and its served versions, preferred (highest priority) first."""

    group: str
    versions: tuple[str, ...]

    @property
    def preferred(self) -> str:
        return self.versions[0]


class Catalog:
    """Resource types by (group, plural). Not thread-safe: used on the server's loop."""

    def __init__(self) -> None:
        self._types: dict[tuple[str, str], ResourceType] = {t.key: t for t in BUILTIN_TYPES}
        self.revision = 0  # bumped on every change, for what is derived from the catalog

    def add(self, rtype: ResourceType) -> None:
        """Serve ``rtype`` (replacing the type of the same group and plural)."""
        self._types[rtype.key] = rtype
        self.revision += 1

    def remove(self, key: tuple[str, str]) -> None:
        if key in self._types and not self._types[key].builtin:
            del self._types[key]
            self.revision += 1

    def get(self, key: tuple[str, str]) -> ResourceType | None:
        return self._types.get(key)

    def lookup(self, group: str, version: str, plural: str) -> tuple[ResourceType, VersionSpec]:
        """The type served at ``/apis/<group>/<version>/<plural>``; KeyError if none."""
        rtype = self._types.get((group, plural))
        spec = rtype.version(version) if rtype is not None else None
        if rtype is None or spec is None:
            raise KeyError((group, version, plural))
        return rtype, spec

    def types(self) -> list[ResourceType]:
        return list(self._types.values())

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return sorted(
            (t for t in self._types.values() if t.group == group and t.version(version)),
            key=lambda t: t.plural,
        )

    def groups(self) -> list[GroupVersions]:
        """Every served group (the core group ``""`` first), versions by priority."""
        versions: dict[str, set[str]] = {}
        for rtype in self._types.values():
            versions.setdefault(rtype.group, set()).update(v.name for v in rtype.versions)
        ordered = sorted(versions, key=lambda g: (g != "", g))
        return [GroupVersions(g, tuple(sorted(versions[g], key=version_priority))) for g in ordered]
