"""``Table`` responses (``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``), the
form ``kubectl get`` prints: the columns and cells the real API server gives per kind.

Pods: NAME READY STATUS RESTARTS AGE (+ IP NODE NOMINATED NODE READINESS GATES wide);
Namespaces: NAME STATUS AGE; ConfigMaps: NAME DATA AGE; Leases: NAME HOLDER AGE; CRDs:
NAME CREATED AT; custom resources: NAME then the CRD's ``additionalPrinterColumns``
(AGE when it has none). Each row carries the object as ``includeObject`` asks: ``None``,
``Metadata`` (the default: a PartialObjectMetadata) or ``Object``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from gie_cli.kube.durations import since
from gie_cli.kube.json_path import find
from gie_cli.kube.objects import Obj
from gie_cli.kube.pod_printer import POD_COLUMNS, pod_row, pod_row_conditions
from gie_cli.kube.resource_types import ResourceType
from gie_cli.kube.status import bad_request

__all__ = ["INCLUDE_OBJECT", "to_table"]

INCLUDE_OBJECT = ("None", "Metadata", "Object")
_NAME = {
    "name": "Name",
    "type": "string",
    "format": "name",
    "description": "Name must be unique within a namespace.",
    "priority": 0,
}
_AGE_DESCRIPTION = (
    "CreationTimestamp is a timestamp representing the server time when this object was created."
)


def _string(name: str, description: str = "") -> dict[str, Any]:
    return {"name": name, "type": "string", "format": "", "description": description, "priority": 0}


Printer = tuple[list[dict[str, Any]], Callable[[Obj, datetime], list[Any]]]


def _builtin_printers() -> dict[tuple[str, str], Printer]:
    age = _string("Age", _AGE_DESCRIPTION)
    return {
        ("", "pods"): (POD_COLUMNS, pod_row),
        ("", "namespaces"): (
            [_NAME, _string("Status", "The status of the namespace"), age],
            lambda o, now: [
                o["metadata"]["name"],
                (o.get("status") or {}).get("phase", ""),
                since(o["metadata"].get("creationTimestamp"), now),
            ],
        ),
        ("", "configmaps"): (
            [_NAME, _string("Data", "Data contains the configuration data."), age],
            lambda o, now: [
                o["metadata"]["name"],
                len(o.get("data") or {}) + len(o.get("binaryData") or {}),
                since(o["metadata"].get("creationTimestamp"), now),
            ],
        ),
        ("coordination.k8s.io", "leases"): (
            [_NAME, _string("Holder", "The holder of the lease"), age],
            lambda o, now: [
                o["metadata"]["name"],
                (o.get("spec") or {}).get("holderIdentity", ""),
                since(o["metadata"].get("creationTimestamp"), now),
            ],
        ),
    }


_BUILTIN = _builtin_printers()
_DEFAULT_COLUMNS = [
    _NAME,
    {
        "name": "Created At",
        "type": "date",
        "format": "",
        "description": _AGE_DESCRIPTION,
        "priority": 0,
    },
]


def _default_row(obj: Obj, now: datetime) -> list[Any]:
    return [obj["metadata"]["name"], obj["metadata"].get("creationTimestamp")]


def _cell(column: dict[str, Any], obj: Obj, now: datetime) -> Any:
    values = find(obj, column.get("jsonPath", ""))
    if not values:
        return None
    value, kind = values[0], column.get("type", "string")
    if kind == "date":
        return since(value, now) if isinstance(value, str) else None
    if kind == "integer":
        return (
            int(value)
            if isinstance(value, int | float)
            and not isinstance(value, bool)
            and value == int(value)
            else None
        )
    if kind == "number":
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if kind == "string":
        shown = [v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for v in values]
        return " ".join(shown)
    return value


def _custom_printer(rtype: ResourceType, version: str) -> Printer:
    spec = rtype.version(version)
    columns = list(spec.printer_columns) if spec is not None else []
    definitions = [_NAME] + [
        {
            "name": c["name"],
            "type": c.get("type", "string"),
            "format": c.get("format", ""),
            "description": c.get("description", ""),
            "priority": int(c.get("priority", 0)),
        }
        for c in columns
    ]
    return definitions, lambda obj, now: [
        obj["metadata"]["name"],
        *(_cell(c, obj, now) for c in columns),
    ]


def _row_object(obj: Obj, include: str) -> Obj | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj["metadata"],
    }


def to_table(
    rtype: ResourceType,
    version: str,
    objects: list[Obj],
    *,
    resource_version: str,
    include_object: str,
    now: datetime,
    table_version: str = "v1",
    continue_token: str = "",
) -> Obj:
    """The Table of ``objects`` (shown in ``version``)."""
    if include_object not in INCLUDE_OBJECT:
        raise bad_request(
            f'includeObject: Unsupported value: "{include_object}": supported values: '
            '"None", "Metadata", "Object"'
        )
    if not rtype.builtin:
        columns, row = _custom_printer(rtype, version)
    else:
        columns, row = _BUILTIN.get(rtype.key, (_DEFAULT_COLUMNS, _default_row))
    rows = []
    for obj in objects:
        entry: Obj = {"cells": row(obj, now)}
        if rtype.key == ("", "pods") and (conditions := pod_row_conditions(obj)):
            entry["conditions"] = conditions
        shown = _row_object(obj, include_object)
        if shown is not None:
            entry["object"] = shown
        rows.append(entry)
    metadata: Obj = {"resourceVersion": resource_version}
    if continue_token:
        metadata["continue"] = continue_token
    return {
        "kind": "Table",
        "apiVersion": f"meta.k8s.io/{table_version}",
        "metadata": metadata,
        "columnDefinitions": columns,
        "rows": rows,
    }
