"""Deletes as the API server and its controllers carry them out.

* An object with finalizers is only marked (``deletionTimestamp``); it goes when an
  update removes the last finalizer.
* A Pod bound to a node is deleted gracefully (see :mod:`gie_cli.kube.pod_strategy`);
  :meth:`Deletions.reap`, run periodically, removes it when its grace period ends.
* A Namespace turns ``Terminating``; ``reap`` deletes what it holds, then the Namespace.
  ``default``, ``kube-system`` and ``kube-public`` may not be deleted (403).
* A CustomResourceDefinition takes its custom resources with it.
* ``propagationPolicy`` is accepted; there is no garbage collector, so dependents
  named by ``ownerReferences`` are left alone.

Concurrency: one event loop; no method awaits.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gie_cli.kube.crd_types import crd_resource_type
from gie_cli.kube.namespace_strategy import PROTECTED_NAMESPACES
from gie_cli.kube.objects import Obj, format_time, parse_time
from gie_cli.kube.registry import Registry
from gie_cli.kube.resource_types import CRD_TYPE, NAMESPACE_TYPE, POD_TYPE
from gie_cli.kube.selectors import Selector
from gie_cli.kube.status import KubeError, conflict, status_object, success_status
from gie_cli.kube.targets import DeleteOptions, Target

__all__ = ["Deletions"]


class Deletions:
    """delete, deletecollection, and the controllers that finish deletes."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.store = registry.store

    def delete(self, target: Target, options: DeleteOptions) -> Obj:
        """Delete one object; returns the response body (the object, or a Status)."""
        old = self.registry.existing(target)
        self._check_preconditions(target, old, options)
        rtype, metadata = target.rtype, old["metadata"]
        strategy = self.registry.strategy(rtype)
        if rtype.key == NAMESPACE_TYPE.key:
            return self._terminate_namespace(target, old, options)
        grace = strategy.grace_period(old, options.grace_period)
        finalizers = metadata.get("finalizers") or []
        if metadata.get("deletionTimestamp"):
            pending = int(metadata.get("deletionGracePeriodSeconds") or 0)
            if (grace > 0 and grace < pending) or (grace == 0 and pending > 0 and finalizers):
                return self._mark(target, old, grace, options)
            if finalizers or grace > 0:
                return self.registry.shown(target, old)
        elif grace > 0 or finalizers:
            return self._mark(target, old, grace, options)
        if options.dry_run:
            return self.registry.shown(target, old)
        gone = self.remove(target)
        if strategy.returns_deleted_object:
            return self.registry.shown(target, gone)
        return success_status(rtype.ref(target.name), str(metadata.get("uid", "")))

    def delete_collection(
        self, target: Target, selector: Selector, options: DeleteOptions
    ) -> list[Obj]:
        """Delete every matching object (of one namespace, or all); returns their last states."""
        deleted = []
        for obj in self.store.items(target.rtype.key, target.namespace):
            if not selector.matches(self.registry.shown(target, obj)):
                continue
            one = Target(
                target.rtype,
                target.version,
                obj["metadata"].get("namespace", ""),
                obj["metadata"]["name"],
            )
            result = self.delete(one, options)
            deleted.append(
                result if result.get("kind") != "Status" else self.registry.shown(one, obj)
            )
        return deleted

    def remove(self, target: Target) -> Obj:
        """Remove at once (what a finished delete does), with what goes with it."""
        if target.rtype.key == CRD_TYPE.key:
            self._remove_custom_resources(self.registry.existing(target))
        gone = self.store.remove(target.rtype.key, target.ns, target.name)
        assert gone is not None
        return gone

    def _check_preconditions(self, target: Target, old: Obj, options: DeleteOptions) -> None:
        metadata = old["metadata"]
        for key, field in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
            wanted = options.preconditions.get(key)
            if wanted and wanted != metadata.get(key):
                raise conflict(
                    target.rtype.ref(target.name),
                    f"Precondition failed: {field} in precondition: {wanted}, "
                    f"{field} in object meta: {metadata.get(key)}",
                )

    def _mark(self, target: Target, old: Obj, grace: int, options: DeleteOptions) -> Obj:
        obj: dict[str, Any] = self.registry.shown(target, old)
        metadata = obj["metadata"]
        metadata["deletionTimestamp"] = format_time(
            self.registry.clock.now() + timedelta(seconds=grace)
        )
        metadata["deletionGracePeriodSeconds"] = grace
        if "generation" in metadata and "deletionTimestamp" not in old["metadata"]:
            metadata["generation"] = int(metadata["generation"]) + 1
        if options.dry_run:
            return obj
        stored = self.store.put(target.rtype.key, self.registry.to_storage(target.rtype, obj))
        return self.registry.shown(target, stored)

    def _terminate_namespace(self, target: Target, old: Obj, options: DeleteOptions) -> Obj:
        if target.name in PROTECTED_NAMESPACES:
            raise KubeError(
                status_object(
                    code=403,
                    reason="Forbidden",
                    message=(
                        f'namespaces "{target.name}" is forbidden: '
                        "this namespace may not be deleted"
                    ),
                    details={"name": target.name, "kind": "namespaces"},
                )
            )
        if old["metadata"].get("deletionTimestamp") or options.dry_run:
            return self.registry.shown(target, old)
        obj = self.registry.shown(target, old)
        obj["metadata"]["deletionTimestamp"] = format_time(self.registry.clock.now())
        obj["status"] = {"phase": "Terminating"}
        stored = self.store.put(NAMESPACE_TYPE.key, obj)
        return self.registry.shown(target, stored)

    def _remove_custom_resources(self, crd: Obj) -> None:
        rtype = crd_resource_type(crd)
        for obj in self.store.items(rtype.key):
            self.store.remove(
                rtype.key, obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
            )
        self.registry.catalog.remove(rtype.key)

    def reap(self) -> None:
        """Finish what is due: Pods whose grace period ended, terminating Namespaces."""
        now = self.registry.clock.now()
        for pod in self.store.items(POD_TYPE.key):
            metadata = pod["metadata"]
            due = parse_time(metadata.get("deletionTimestamp", ""))
            if due is None or due > now:
                continue
            target = Target(POD_TYPE, "v1", metadata["namespace"], metadata["name"])
            if not metadata.get("finalizers"):
                self.store.remove(POD_TYPE.key, metadata["namespace"], metadata["name"])
            elif metadata.get("deletionGracePeriodSeconds"):
                self._mark(target, pod, 0, DeleteOptions())
        for namespace in self.store.items(NAMESPACE_TYPE.key):
            if (namespace.get("status") or {}).get("phase") == "Terminating":
                self._empty_namespace(namespace["metadata"]["name"])

    def _empty_namespace(self, name: str) -> None:
        remaining = False
        for rtype in self.registry.catalog.types():
            if not rtype.namespaced:
                continue
            for obj in self.store.items(rtype.key, name):
                remaining = True
                if not obj["metadata"].get("deletionTimestamp"):
                    one = Target(rtype, rtype.storage_version, name, obj["metadata"]["name"])
                    self.delete(one, DeleteOptions())
        if not remaining:
            self.store.remove(NAMESPACE_TYPE.key, "", name)
