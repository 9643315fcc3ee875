"""CustomResourceDefinitions: validated as the API server validates them, and at once
*established* (status conditions ``NamesAccepted`` and ``Established``, accepted names,
stored versions), as if the apiextensions controllers had run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from gie_cli.kube import field_errors as fe
from gie_cli.kube.resource_types import ResourceType
from gie_cli.kube.status import FieldError
from gie_cli.kube.strategy import Strategy

__all__ = ["CrdStrategy"]

Obj = dict[str, Any]


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class CrdStrategy(Strategy):
    tracks_generation = True

    def __init__(self, rtype: ResourceType, now: Callable[[], datetime]) -> None:
        super().__init__(rtype)
        self._now = now

    def apply_defaults(self, obj: Obj, version: str) -> None:
        spec = obj.setdefault("spec", {})
        names = spec.get("names")
        if isinstance(names, dict) and isinstance(names.get("kind"), str):
            names.setdefault("singular", names["kind"].lower())
            names.setdefault("listKind", f"{names['kind']}List")
        spec.setdefault("conversion", {"strategy": "None"})

    def prepare_for_create(self, obj: Obj, version: str) -> None:
        obj["status"] = self._status(obj, [])

    def prepare_for_update(self, new: Obj, old: Obj, version: str, subresource: str) -> None:
        super().prepare_for_update(new, old, version, subresource)
        stored = list((old.get("status") or {}).get("storedVersions") or [])
        new["status"] = self._status(new, stored)

    def _status(self, obj: Obj, stored: list[str]) -> Obj:
        spec = obj.get("spec") or {}
        storage = [
            str(v.get("name"))
            for v in spec.get("versions") or []
            if isinstance(v, dict) and v.get("storage")
        ]
        for name in storage:
            if name not in stored:
                stored.append(name)
        now = _timestamp(self._now())
        names = dict(spec.get("names") or {})
        return {
            "acceptedNames": names,
            "conditions": [
                {
                    "type": kind,
                    "status": "True",
                    "lastTransitionTime": now,
                    "reason": reason,
                    "message": message,
                }
                for kind, reason, message in (
                    ("NamesAccepted", "NoConflicts", "no conflicts found"),
                    ("Established", "InitialNamesAccepted", "the initial names have been accepted"),
                )
            ],
            "storedVersions": stored,
        }

    def validate(self, obj: Obj, old: Obj | None, version: str) -> list[FieldError]:
        errors = super().validate(obj, old, version)
        spec = obj.get("spec") or {}
        group, names = spec.get("group"), spec.get("names") or {}
        if not group:
            errors.append(fe.required("spec.group"))
        elif "." not in group:
            errors.append(
                fe.invalid_value("spec.group", group, "should be a domain with at least one dot")
            )
        for key in ("plural", "kind"):
            if not names.get(key):
                errors.append(fe.required(f"spec.names.{key}"))
        if (
            group
            and names.get("plural")
            and obj["metadata"].get("name") != f"{names['plural']}.{group}"
        ):
            errors.append(
                fe.invalid_value(
                    "metadata.name",
                    obj["metadata"].get("name"),
                    'must be spec.names.plural+"."+spec.group',
                )
            )
        scope = spec.get("scope")
        if scope not in ("Namespaced", "Cluster"):
            errors.append(fe.not_supported("spec.scope", scope, ["Cluster", "Namespaced"]))
        elif old is not None and scope != (old.get("spec") or {}).get("scope"):
            errors.append(fe.invalid_value("spec.scope", scope, "field is immutable"))
        errors += _validate_versions(spec.get("versions"))
        return errors


def _validate_versions(versions: Any) -> list[FieldError]:
    if not isinstance(versions, list) or not versions:
        return [
            fe.invalid_value(
                "spec.versions", versions, "must have exactly one version marked as storage version"
            )
        ]
    errors: list[FieldError] = []
    storage = [v for v in versions if isinstance(v, dict) and v.get("storage")]
    if len(storage) != 1:
        errors.append(
            fe.invalid_value(
                "spec.versions", versions, "must have exactly one version marked as storage version"
            )
        )
    if not any(isinstance(v, dict) and v.get("served") for v in versions):
        errors.append(
            fe.invalid_value(
                "spec.versions", versions, "must have at least one version marked as served"
            )
        )
    for index, version in enumerate(versions):
        where = f"spec.versions[{index}]"
        if not isinstance(version, dict) or not version.get("name"):
            errors.append(fe.required(f"{where}.name"))
            continue
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if not isinstance(schema, dict):
            errors.append(fe.required(f"{where}.schema.openAPIV3Schema", "schemas are required"))
        elif schema.get("type") != "object":
            errors.append(
                fe.required(f"{where}.schema.openAPIV3Schema.type", "must be object at the root")
            )
    return errors
