"""Custom resources: pruned, defaulted and validated against the schema of the version
being written (the CRD's ``openAPIV3Schema``, with its CEL rules); ``metadata.generation``
counts changes to everything but metadata (and status, where status is a subresource)."""

from __future__ import annotations

from typing import Any

from gie_cli.kube.cel_rules import NO_OLD, validate_rules
from gie_cli.kube.schema_defaults import apply_defaults, prune, prune_metadata
from gie_cli.kube.schema_validation import validate_schema
from gie_cli.kube.status import FieldError
from gie_cli.kube.strategy import Strategy

__all__ = ["CustomResourceStrategy"]

Obj = dict[str, Any]


class CustomResourceStrategy(Strategy):
    tracks_generation = True
    returns_deleted_object = True

    def _schema(self, version: str) -> dict[str, Any] | None:
        spec = self.rtype.version(version)
        return spec.schema if spec is not None else None

    def unknown_fields(self, obj: Obj, version: str) -> list[str]:
        schema = self._schema(version)
        if schema is None:
            return prune_metadata(obj.get("metadata"))
        return prune(obj, schema)

    def apply_defaults(self, obj: Obj, version: str) -> None:
        schema = self._schema(version)
        if schema is not None:
            apply_defaults(obj, schema)

    def validate(self, obj: Obj, old: Obj | None, version: str) -> list[FieldError]:
        errors = super().validate(obj, old, version)
        schema = self._schema(version)
        if schema is not None:
            errors += validate_schema(obj, schema)
            errors += validate_rules(obj, schema, "", NO_OLD if old is None else old)
        return errors
