"""Protobuf field numbers of the built-in kinds Go clients send as protobuf, from
Kubernetes' ``generated.proto`` files: ObjectMeta, Namespace, ConfigMap and Lease."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KINDS", "Field", "Message"]


@dataclass(frozen=True, slots=True)
class Field:
    """A field: its JSON name and a scalar ``kind``, or a nested ``message``, or a map
    from strings to ``map_of`` scalars; ``repeated`` for lists."""

    name: str
    kind: str = "string"
    message: Message | None = None
    repeated: bool = False
    map_of: str | None = None


Message = dict[int, Field]

_OWNER_REFERENCE: Message = {
    1: Field("kind"),
    3: Field("name"),
    4: Field("uid"),
    5: Field("apiVersion"),
    6: Field("controller", "bool"),
    7: Field("blockOwnerDeletion", "bool"),
}

OBJECT_META: Message = {
    1: Field("name"),
    2: Field("generateName"),
    3: Field("namespace"),
    4: Field("selfLink"),
    5: Field("uid"),
    6: Field("resourceVersion"),
    7: Field("generation", "int64"),
    8: Field("creationTimestamp", "time"),
    9: Field("deletionTimestamp", "time"),
    10: Field("deletionGracePeriodSeconds", "int64"),
    11: Field("labels", map_of="string"),
    12: Field("annotations", map_of="string"),
    13: Field("ownerReferences", message=_OWNER_REFERENCE, repeated=True),
    14: Field("finalizers", repeated=True),
}

_NAMESPACE_CONDITION: Message = {
    1: Field("type"),
    2: Field("status"),
    4: Field("lastTransitionTime", "time"),
    5: Field("reason"),
    6: Field("message"),
}

NAMESPACE: Message = {
    1: Field("metadata", message=OBJECT_META),
    2: Field("spec", message={1: Field("finalizers", repeated=True)}),
    3: Field(
        "status",
        message={
            1: Field("phase"),
            2: Field("conditions", message=_NAMESPACE_CONDITION, repeated=True),
        },
    ),
}

CONFIG_MAP: Message = {
    1: Field("metadata", message=OBJECT_META),
    2: Field("data", map_of="string"),
    3: Field("binaryData", map_of="bytes"),
    4: Field("immutable", "bool"),
}

LEASE: Message = {
    1: Field("metadata", message=OBJECT_META),
    2: Field(
        "spec",
        message={
            1: Field("holderIdentity"),
            2: Field("leaseDurationSeconds", "int32"),
            3: Field("acquireTime", "microtime"),
            4: Field("renewTime", "microtime"),
            5: Field("leaseTransitions", "int32"),
            6: Field("strategy"),
            7: Field("preferredHolder"),
        },
    ),
}

KINDS: dict[tuple[str, str], Message] = {
    ("v1", "Namespace"): NAMESPACE,
    ("v1", "ConfigMap"): CONFIG_MAP,
    ("coordination.k8s.io/v1", "Lease"): LEASE,
}
