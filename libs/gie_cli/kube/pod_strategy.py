"""Pods: the defaults, validation and graceful deletion of the real API server.

A created Pod gets the fields the API server and its default admission plugins fill in
(restart and DNS policies, scheduler, service account, container pull policies, the
not-ready/unreachable tolerations, ``status.phase: Pending`` and the QoS class); its
status is written only through ``/status``; its spec may change only where Kubernetes
allows (images, ``activeDeadlineSeconds``, added tolerations, the grace period). A
delete is graceful for a Pod bound to a node (``spec.nodeName``) that has not finished:
it gets ``deletionTimestamp`` and ``deletionGracePeriodSeconds`` and is removed when the
period ends (or when deleted again with ``gracePeriodSeconds=0``); any other Pod is
removed at once.
"""

from __future__ import annotations

import copy
from typing import Any

from gie_cli.kube import field_errors as fe
from gie_cli.kube.status import FieldError
from gie_cli.kube.strategy import Strategy

__all__ = ["PodStrategy"]

Obj = dict[str, Any]

DEFAULT_GRACE_SECONDS = 30
_TOLERATION_SECONDS = 300
_MUTABLE_MESSAGE = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
    "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)


def _pull_policy(image: str) -> str:
    tag = image.rpartition("/")[2]
    if "@" in tag:
        return "IfNotPresent"
    return "Always" if ":" not in tag or tag.endswith(":latest") else "IfNotPresent"


def _qos_class(spec: Obj) -> str:
    resources = [c.get("resources") or {} for c in spec.get("containers", [])]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(
        all(name in (r.get("limits") or {}) for name in ("cpu", "memory"))
        and all(
            (r.get("requests") or {}).get(k, v) == v for k, v in (r.get("limits") or {}).items()
        )
        for r in resources
    )
    return "Guaranteed" if guaranteed else "Burstable"


class PodStrategy(Strategy):
    tracks_generation = True
    returns_deleted_object = True

    def apply_defaults(self, obj: Obj, version: str) -> None:
        spec = obj.setdefault("spec", {})
        for key, value in (
            ("restartPolicy", "Always"),
            ("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS),
            ("dnsPolicy", "ClusterFirst"),
            ("securityContext", {}),
            ("schedulerName", "default-scheduler"),
            ("enableServiceLinks", True),
            ("preemptionPolicy", "PreemptLowerPriority"),
            ("priority", 0),
        ):
            spec.setdefault(key, copy.deepcopy(value))
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            if not isinstance(container, dict):
                continue
            if isinstance(container.get("image"), str):
                container.setdefault("imagePullPolicy", _pull_policy(container["image"]))
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            container.setdefault("terminationMessagePolicy", "File")
            container.setdefault("resources", {})
            for port in container.get("ports") or []:
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")

    def prepare_for_create(self, obj: Obj, version: str) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        tolerations = spec.setdefault("tolerations", [])
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            if not any(t.get("key") == key for t in tolerations if isinstance(t, dict)):
                tolerations.append(
                    {
                        "key": key,
                        "operator": "Exists",
                        "effect": "NoExecute",
                        "tolerationSeconds": _TOLERATION_SECONDS,
                    }
                )
        obj["status"] = {"phase": "Pending", "qosClass": _qos_class(spec)}

    def validate(self, obj: Obj, old: Obj | None, version: str) -> list[FieldError]:
        errors = super().validate(obj, old, version)
        spec = obj.get("spec") or {}
        containers = spec.get("containers") or []
        if not containers:
            errors.append(fe.required("spec.containers"))
        for group in ("containers", "initContainers"):
            errors += _validate_containers(spec.get(group) or [], f"spec.{group}")
        policy = spec.get("restartPolicy")
        if policy not in ("Always", "OnFailure", "Never"):
            errors.append(
                fe.not_supported("spec.restartPolicy", policy, ["Always", "OnFailure", "Never"])
            )
        if old is not None and _immutable_part(spec) != _immutable_part(old.get("spec") or {}):
            errors.append(fe.forbidden("spec", _MUTABLE_MESSAGE))
        return errors

    def grace_period(self, obj: Obj, requested: int | None) -> int:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
            return 0
        if requested is not None:
            return max(requested, 0)
        return int(spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS))


def _validate_containers(containers: list[Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, container in enumerate(containers):
        where = f"{path}[{index}]"
        if not isinstance(container, dict):
            errors.append(fe.invalid_value(where, container, "must be an object"))
            continue
        name = container.get("name")
        if not name:
            errors.append(fe.required(f"{where}.name"))
        elif name in seen:
            errors.append(fe.duplicate(f"{where}.name", name))
        seen.add(str(name))
        if not container.get("image"):
            errors.append(fe.required(f"{where}.image"))
        for number, port in enumerate(container.get("ports") or []):
            field = f"{where}.ports[{number}].containerPort"
            value = port.get("containerPort") if isinstance(port, dict) else None
            if value is None:
                errors.append(fe.required(field))
            elif not isinstance(value, int) or not 1 <= value <= 65535:
                errors.append(
                    fe.invalid_value(field, value, "must be between 1 and 65535, inclusive")
                )
    return errors


def _immutable_part(spec: Obj) -> Obj:
    """The spec without the fields an update may change."""
    part = copy.deepcopy(spec)
    for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
        part.pop(key, None)
    for group in ("containers", "initContainers"):
        for container in part.get(group) or []:
            if isinstance(container, dict):
                container.pop("image", None)
    return part
