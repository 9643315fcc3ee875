"""What a request addresses (resource, version, namespace, name, subresource) and the
options of writes and deletes, parsed from the query and the body."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gie_cli.kube.resource_types import ResourceType, api_version
from gie_cli.kube.status import bad_request

__all__ = ["DeleteOptions", "Target", "WriteOptions", "parse_dry_run"]

FIELD_VALIDATION = ("Strict", "Warn", "Ignore")
PROPAGATION = ("Orphan", "Background", "Foreground")


@dataclass(frozen=True, slots=True)
class Target:
    """``namespace`` None: every namespace (a list or watch across them); ``""`` for
    cluster-scoped resources."""

    rtype: ResourceType
    version: str
    namespace: str | None
    name: str = ""
    subresource: str = ""

    @property
    def ns(self) -> str:
        return self.namespace or ""

    @property
    def api_version(self) -> str:
        return api_version(self.rtype.group, self.version)


def parse_dry_run(values: list[str]) -> bool:
    for value in values:
        if value != "All":
            raise bad_request(f'Invalid dry run value: "{value}": supported values: "All"')
    return bool(values)


@dataclass(frozen=True, slots=True)
class WriteOptions:
    dry_run: bool = False
    field_validation: str = "Warn"

    @classmethod
    def parse(cls, query: dict[str, list[str]]) -> WriteOptions:
        validation = (query.get("fieldValidation") or ["Warn"])[-1] or "Warn"
        if validation not in FIELD_VALIDATION:
            raise bad_request(
                f"fieldValidation: Unsupported value: {validation!r}: supported values: "
                '"Ignore", "Warn", "Strict"'
            )
        return cls(dry_run=parse_dry_run(query.get("dryRun", [])), field_validation=validation)


@dataclass(frozen=True, slots=True)
class DeleteOptions:
    grace_period: int | None = None
    propagation: str | None = None
    preconditions: dict[str, str] = field(default_factory=dict)
    dry_run: bool = False

    @classmethod
    def parse(cls, query: dict[str, list[str]], body: Any) -> DeleteOptions:
        """From the query and a ``DeleteOptions`` body (the body wins where both set)."""
        body = body if isinstance(body, dict) else {}
        grace = body.get("gracePeriodSeconds", _last(query, "gracePeriodSeconds"))
        if grace is not None:
            try:
                grace = int(grace)
            except (TypeError, ValueError):
                raise bad_request(f"invalid gracePeriodSeconds: {grace!r}") from None
        propagation = body.get("propagationPolicy", _last(query, "propagationPolicy"))
        orphan = body.get("orphanDependents", _last(query, "orphanDependents"))
        if orphan is True or orphan in ("true", "True", "1"):
            propagation = propagation or "Orphan"
        if propagation is not None and propagation not in PROPAGATION:
            raise bad_request(
                f'propagationPolicy: Unsupported value: "{propagation}": supported values: '
                '"Foreground", "Background", "Orphan", "nil"'
            )
        dry_run = body.get("dryRun") or query.get("dryRun", [])
        return cls(
            grace_period=grace,
            propagation=propagation,
            preconditions={k: str(v) for k, v in (body.get("preconditions") or {}).items() if v},
            dry_run=parse_dry_run(list(dry_run)),
        )


def _last(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None
