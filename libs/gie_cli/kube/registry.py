"""Reads and writes with Kubernetes semantics, over the raw :class:`Store`.

A write goes through the steps of the real API server: decode (the apiVersion, kind,
namespace and name must agree with the URL), drop unknown fields (refused under
``fieldValidation=Strict``, warned about under ``Warn``), let the kind's strategy
prepare it (system fields, defaults, what a subresource may change), validate (422
Invalid naming each field), check optimistic concurrency (409 Conflict on a stale
``metadata.resourceVersion``) and store. Deletes are in :mod:`gie_cli.kube.deletion`.

Concurrency: one event loop; no method awaits, so each request's read-modify-write is
atomic.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gie.clock import Clock
from gie_cli.kube.body_limits import loads_json
from gie_cli.kube.catalog import Catalog
from gie_cli.kube.crd_types import crd_resource_type
from gie_cli.kube.json_patches import apply_json_patch, apply_merge_patch
from gie_cli.kube.objects import Obj, format_time, generate_name, in_version
from gie_cli.kube.patch_meta import BUILTIN_PATCH_META
from gie_cli.kube.resource_types import CRD_TYPE, NAMESPACE_TYPE, ResourceType
from gie_cli.kube.status import (
    KubeError,
    already_exists,
    bad_request,
    conflict,
    invalid,
    not_found,
    status_object,
    unsupported_media_type,
)
from gie_cli.kube.store import Store
from gie_cli.kube.strategic_merge import apply_strategic_merge_patch
from gie_cli.kube.strategies import strategy_for
from gie_cli.kube.strategy import Strategy
from gie_cli.kube.targets import Target, WriteOptions

__all__ = ["Registry", "WriteResult"]

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
_SYSTEM_FIELDS = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds")
_STALE = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


@dataclass(slots=True)
class WriteResult:
    obj: Obj
    warnings: list[str] = field(default_factory=list)
    created: bool = False


class Registry:
    """Kubernetes semantics for get, create, update and patch."""

    def __init__(self, store: Store, catalog: Catalog, clock: Clock) -> None:
        self.store = store
        self.catalog = catalog
        self.clock = clock
        self.after_write: list[Callable[[ResourceType, Obj | None, Obj], None]] = [
            self._crd_written
        ]

    def strategy(self, rtype: ResourceType) -> Strategy:
        return strategy_for(rtype, self.clock.now)

    # reads

    def existing(self, target: Target) -> Obj:
        stored = self.store.get(target.rtype.key, target.ns, target.name)
        if stored is None:
            raise not_found(target.rtype.ref(target.name))
        return stored

    def shown(self, target: Target, stored: Obj) -> Obj:
        """A stored object as the request's version shows it (defaults of that version)."""
        obj = in_version(stored, target.rtype, target.version)
        if not target.rtype.builtin:
            # defaults are applied in place: never to a stored object (or history) itself
            obj = copy.deepcopy(obj)
            self.strategy(target.rtype).apply_defaults(obj, target.version)
        return obj

    def get(self, target: Target) -> Obj:
        return self.shown(target, self.existing(target))

    # writes

    def create(self, target: Target, body: Any, options: WriteOptions) -> WriteResult:
        obj = self._decode(target, body)
        metadata = obj["metadata"]
        if metadata.get("resourceVersion"):
            raise bad_request("resourceVersion should not be set on objects to be created")
        self._check_namespace(target, obj)
        if not metadata.get("name") and metadata.get("generateName"):
            metadata["name"] = generate_name(str(metadata["generateName"]))
        strategy = self.strategy(target.rtype)
        warnings = self._unknown_fields(target, strategy, obj, options)
        strategy.prepare_for_create(obj, target.version)
        for key in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "managedFields"):
            metadata.pop(key, None)
        metadata["uid"] = str(uuid.uuid4())
        metadata["creationTimestamp"] = format_time(self.clock.now())
        if strategy.tracks_generation:
            metadata["generation"] = 1
        else:
            metadata.pop("generation", None)
        strategy.apply_defaults(obj, target.version)
        self._validate(target, strategy, obj, None)
        name = metadata["name"]
        if self.store.get(target.rtype.key, target.ns, name) is not None:
            raise already_exists(target.rtype.ref(name))
        if options.dry_run:
            return WriteResult(obj, warnings, created=True)
        stored = self.store.put(target.rtype.key, self.to_storage(target.rtype, obj))
        self._written(target.rtype, None, stored)
        return WriteResult(self.shown(target, stored), warnings, created=True)

    def update(self, target: Target, body: Any, options: WriteOptions) -> WriteResult:
        obj = self._decode(target, body)
        name = obj["metadata"].get("name")
        if name != target.name:
            raise bad_request(
                f"the name of the object ({name}) does not match the name on the URL "
                f"({target.name})"
            )
        self._check_namespace(target, obj, must_exist=False)
        return self.write_update(target, obj, self.existing(target), options)

    def patch(
        self, target: Target, content_type: str, raw: bytes, options: WriteOptions
    ) -> WriteResult:
        if content_type not in self.patch_types(target.rtype):
            raise unsupported_media_type(
                f"the body of the request was in an unknown format - accepted media types "
                f"include: {', '.join(self.patch_types(target.rtype))}"
            )
        old = self.existing(target)
        current = self.shown(target, old)
        document = loads_json(raw or b"null", "patch")
        if content_type == MERGE_PATCH:
            patched = apply_merge_patch(current, document)
        elif content_type == JSON_PATCH:
            patched = apply_json_patch(current, document)
        else:
            patched = apply_strategic_merge_patch(
                current, document, BUILTIN_PATCH_META[target.rtype.key]
            )
        if not isinstance(patched, dict):
            raise bad_request("the patched object is not a JSON object")
        obj = self._decode(target, patched)
        if obj["metadata"].get("name") != target.name:
            raise bad_request(
                "metadata.name: Invalid value: the name of a patched object may not change"
            )
        return self.write_update(target, obj, old, options)

    @staticmethod
    def patch_types(rtype: ResourceType) -> list[str]:
        """The patch media types ``rtype`` accepts (server-side apply is not served)."""
        if rtype.key in BUILTIN_PATCH_META:
            return [JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH]
        return [JSON_PATCH, MERGE_PATCH]

    def write_update(
        self, target: Target, obj: Obj, old: Obj, options: WriteOptions
    ) -> WriteResult:
        """Update ``old`` to ``obj`` (a decoded body, in the request's version)."""
        metadata, old_meta = obj["metadata"], old["metadata"]
        version = metadata.get("resourceVersion")
        if version and version != old_meta["resourceVersion"]:
            raise conflict(target.rtype.ref(target.name), _STALE)
        strategy = self.strategy(target.rtype)
        warnings = self._unknown_fields(target, strategy, obj, options)
        previous = self.shown(target, old)
        strategy.prepare_for_update(obj, previous, target.version, target.subresource)
        metadata = obj["metadata"]
        if target.subresource != "status":
            for key in (*_SYSTEM_FIELDS, "generation"):
                metadata.pop(key, None)
                if key in old_meta:
                    metadata[key] = old_meta[key]
        metadata.pop("managedFields", None)
        metadata["resourceVersion"] = old_meta["resourceVersion"]
        strategy.apply_defaults(obj, target.version)
        self._validate(target, strategy, obj, previous)
        if strategy.tracks_generation and strategy.spec_changed(obj, previous, target.version):
            metadata["generation"] = int(old_meta.get("generation", 0)) + 1
        if obj == previous:
            return WriteResult(previous, warnings)
        if options.dry_run:
            return WriteResult(obj, warnings)
        if _finalized(metadata):
            gone = self.store.remove(target.rtype.key, target.ns, target.name)
            return WriteResult(self.shown(target, gone or old), warnings)
        stored = self.store.put(target.rtype.key, self.to_storage(target.rtype, obj))
        self._written(target.rtype, old, stored)
        return WriteResult(self.shown(target, stored), warnings)

    # steps

    def _decode(self, target: Target, body: Any) -> Obj:
        if not isinstance(body, dict):
            raise bad_request("Object 'Kind' is missing in the request body: not a JSON object")
        obj: Obj = json.loads(json.dumps(body))
        sent_version, sent_kind = obj.get("apiVersion"), obj.get("kind")
        if sent_version and sent_version != target.api_version:
            raise bad_request(
                f"the API version in the data ({sent_version}) does not match the expected "
                f"API version ({target.api_version})"
            )
        if sent_kind and sent_kind != target.rtype.kind:
            raise bad_request(
                f'{sent_kind} in version "{target.version}" cannot be handled as a '
                f"{target.rtype.kind}: the kind in the data does not match the resource"
            )
        obj["apiVersion"], obj["kind"] = target.api_version, target.rtype.kind
        if not isinstance(obj.get("metadata", {}), dict):
            raise bad_request("metadata must be a JSON object")
        obj.setdefault("metadata", {})
        return obj

    def _check_namespace(self, target: Target, obj: Obj, *, must_exist: bool = True) -> None:
        metadata = obj["metadata"]
        if not target.rtype.namespaced:
            metadata.pop("namespace", None)
            return
        sent = metadata.get("namespace")
        if sent and sent != target.ns:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        metadata["namespace"] = target.ns
        if not must_exist:
            return
        namespace = self.store.get(NAMESPACE_TYPE.key, "", target.ns)
        if namespace is None:
            raise not_found(NAMESPACE_TYPE.ref(target.ns))
        if (namespace.get("status") or {}).get("phase") == "Terminating":
            raise KubeError(
                status_object(
                    code=403,
                    reason="Forbidden",
                    message=(
                        f"{target.rtype.ref().qualified} "
                        f'"{metadata.get("name", "")}" is forbidden: '
                        f"unable to create new content in namespace {target.ns} because it is "
                        "being terminated"
                    ),
                    details={"name": metadata.get("name", ""), "kind": target.rtype.plural},
                )
            )

    def _unknown_fields(
        self, target: Target, strategy: Strategy, obj: Obj, options: WriteOptions
    ) -> list[str]:
        unknown = strategy.unknown_fields(obj, target.version)
        if not unknown or options.field_validation == "Ignore":
            return []
        listed = ", ".join(f'unknown field "{path}"' for path in unknown)
        if options.field_validation == "Strict":
            kind = target.rtype.kind
            raise bad_request(
                f'{kind} in version "{target.version}" cannot be handled as a {kind}: '
                f"strict decoding error: {listed}"
            )
        return [f'unknown field "{path}"' for path in unknown]

    def _validate(self, target: Target, strategy: Strategy, obj: Obj, old: Obj | None) -> None:
        errors = strategy.validate(obj, old, target.version)
        if errors:
            name = obj["metadata"].get("name") or ""
            raise invalid(target.rtype.kind, target.rtype.group, name, errors)

    @staticmethod
    def to_storage(rtype: ResourceType, obj: Obj) -> Obj:
        return in_version(obj, rtype, rtype.storage_version)

    def _written(self, rtype: ResourceType, old: Obj | None, stored: Obj) -> None:
        for hook in self.after_write:
            hook(rtype, old, stored)

    def _crd_written(self, rtype: ResourceType, old: Obj | None, stored: Obj) -> None:
        if rtype.key != CRD_TYPE.key:
            return
        if old is not None:
            previous = crd_resource_type(old)
            current = crd_resource_type(stored)
            if previous.key != current.key:
                self.catalog.remove(previous.key)
        self.catalog.add(crd_resource_type(stored))


def _finalized(metadata: Obj) -> bool:
    """A deleted object whose last finalizer is gone: the update completes the delete."""
    return (
        bool(metadata.get("deletionTimestamp"))
        and not metadata.get("finalizers")
        and int(metadata.get("deletionGracePeriodSeconds") or 0) == 0
    )
