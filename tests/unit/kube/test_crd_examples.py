"""Objects against the CRDs' schemas: what the API accepts, and what it refuses and why.

Each invalid example changes one field of a valid fixture and must draw exactly one
problem, naming that field.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from tests.support.crds import load_fixture, validate_object

POOL = load_fixture("inferencepool.yaml")[0]
POOL_X = load_fixture("inferencepool-v1alpha2.yaml")[0]
OBJECTIVE = load_fixture("inferenceobjective.yaml")[0]
OBJECTIVE_X = load_fixture("inferenceobjective-x-k8s.yaml")[0]
REWRITE = load_fixture("inferencemodelrewrite.yaml")[0]
DELETE = object()
CONDITION = {
    "type": "Accepted",
    "status": "True",
    "reason": "SupportedByParent",
    "message": "",
    "lastTransitionTime": "2026-01-02T03:04:05Z",
}


def changed(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``base`` with the field at ``path`` (``a.b.0.c``) set, or deleted."""
    obj = copy.deepcopy(base)
    *parents, last = path.split(".")
    node: Any = obj
    for step in parents:
        node = node[int(step)] if isinstance(node, list) else node.setdefault(step, {})
    key: Any = int(last) if isinstance(node, list) else last
    if value is DELETE:
        del node[key]
    else:
        node[key] = value
    return obj


def ports(*numbers: int) -> list[dict[str, int]]:
    return [{"number": n} for n in numbers]


def parents(**condition: Any) -> list[dict[str, Any]]:
    """``status.parents`` with one parent, whose one condition has these fields changed."""
    return [{"parentRef": {"name": "gateway"}, "conditions": [{**CONDITION, **condition}]}]


REPEATED_CONDITION = [{"parentRef": {"name": "gateway"}, "conditions": [CONDITION, CONDITION]}]
VALID = {
    "pool": POOL,
    "pool-eight-ports-h2c": changed(
        changed(POOL, "spec.targetPorts", ports(*range(8000, 8008))),
        "spec.appProtocol",
        "kubernetes.io/h2c",
    ),
    "pool-without-picker": changed(POOL, "spec.endpointPickerRef", DELETE),
    "pool-picker-not-a-service": changed(
        changed(POOL, "spec.endpointPickerRef.port", DELETE),
        "spec.endpointPickerRef.kind",
        "Deployment",
    ),
    "pool-fail-open": changed(POOL, "spec.endpointPickerRef.failureMode", "FailOpen"),
    "pool-status": changed(POOL, "status.parents", parents()),
    "pool-empty-label-value": changed(POOL, "spec.selector.matchLabels.tier", ""),
    "pool-v1alpha2": POOL_X,
    "objective": OBJECTIVE,
    "objective-sheddable": load_fixture("inferenceobjective.yaml")[1],
    "objective-no-priority": changed(OBJECTIVE, "spec.priority", DELETE),
    "objective-x-k8s": OBJECTIVE_X,
    "rewrite": REWRITE,
    "rewrite-no-weights": changed(REWRITE, "spec.rules.0.targets.0.weight", DELETE),
    "rewrite-status": changed(REWRITE, "status.conditions", [CONDITION]),
}

EP = "spec.endpointPickerRef"
LABEL_PATTERN = "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"


def bad(
    name: str, base: dict[str, Any], path: str, value: Any, detail: str, *, field: str = ""
) -> Any:
    """A case of ``test_invalid_object_names_the_field``: ``base`` with one field changed,
    which must draw one problem about ``field`` (by default the changed one) with ``detail``."""
    field = field or re.sub(r"\.(\d+)", r"[\1]", path)
    return pytest.param(changed(base, path, value), field, detail, id=name)


INVALID = [
    bad("pool-no-ports", POOL, "spec.targetPorts", DELETE, "Required value"),
    bad("pool-no-ports-listed", POOL, "spec.targetPorts", [], "should have at least 1 items"),
    bad("pool-nine-ports", POOL, "spec.targetPorts", ports(*range(1, 10)), "at most 8 items"),
    bad("pool-ports-repeated", POOL, "spec.targetPorts", ports(80, 80), "must be unique"),
    bad("pool-port-zero", POOL, "spec.targetPorts.0.number", 0, "greater than or equal to 1"),
    bad("pool-port-high", POOL, "spec.targetPorts.0.number", 65536, "less than or equal to 65535"),
    bad("pool-port-text", POOL, "spec.targetPorts.0.number", "80", "must be of type integer"),
    bad("pool-protocol", POOL, "spec.appProtocol", "grpc", '"http", "kubernetes.io/h2c"'),
    bad("pool-no-selector", POOL, "spec.selector", DELETE, "Required value"),
    bad("pool-no-labels", POOL, "spec.selector.matchLabels", {}, "at least 1 properties"),
    bad(
        "pool-too-many-labels",
        POOL,
        "spec.selector.matchLabels",
        {f"label-{i}": "v" for i in range(65)},
        "Too many: 65: must have at most 64 properties",
    ),
    bad("pool-label-value", POOL, "spec.selector.matchLabels.app", "-a", LABEL_PATTERN),
    bad("pool-label-expressions", POOL, "spec.selector.matchExpressions", [], "Unknown field"),
    bad("pool-v1alpha2-field-in-v1", POOL, "spec.targetPortNumber", 80, "Unknown field"),
    bad("pool-failure-mode", POOL, f"{EP}.failureMode", "Open", '"FailOpen", "FailClose"'),
    bad("pool-picker-no-name", POOL, f"{EP}.name", DELETE, "Required value"),
    bad("pool-picker-empty-name", POOL, f"{EP}.name", "", "at least 1 characters"),
    bad("pool-picker-kind", POOL, f"{EP}.kind", "core/Service", "should match"),
    bad("pool-picker-no-port", POOL, f"{EP}.port", DELETE, "port is required", field=EP),
    bad("pool-no-spec", POOL, "spec", DELETE, "Required value"),
    bad("pool-status-condition", POOL, "status.parents", parents(status="Maybe"), '"Unknown"',
        field="status.parents[0].conditions[0].status"),
    bad("pool-status-time", POOL, "status.parents", parents(lastTransitionTime="today"),
        "RFC 3339 date-time", field="status.parents[0].conditions[0].lastTransitionTime"),
    bad("pool-status-no-reason", POOL, "status.parents", parents(reason=None),
        "must be of type string", field="status.parents[0].conditions[0].reason"),
    bad("pool-status-repeated-conditions", POOL, "status.parents", REPEATED_CONDITION,
        "Duplicate value", field="status.parents[0].conditions[1]"),
    bad("pool-x-no-port", POOL_X, "spec.targetPortNumber", DELETE, "Required value"),
    bad("pool-x-no-picker", POOL_X, "spec.extensionRef", DELETE, "Required value"),
    bad("pool-x-v1-field", POOL_X, "spec.targetPorts", ports(8000), "Unknown field"),
    bad("pool-x-label-value", POOL_X, "spec.selector.app", 7, "must be of type string"),
    bad("pool-x-picker-port", POOL_X, "spec.extensionRef.portNumber", 0, "greater than or"),
    bad("objective-priority-text", OBJECTIVE, "spec.priority", "high", "of type integer"),
    bad("objective-priority-int32", OBJECTIVE, "spec.priority", 2**31, "out of range for int32"),
    bad("objective-no-pool", OBJECTIVE, "spec.poolRef", DELETE, "Required value"),
    bad("objective-pool-no-name", OBJECTIVE, "spec.poolRef.name", DELETE, "Required value"),
    bad("objective-x-priority", OBJECTIVE_X, "spec.priority", 1.5, "must be of type integer"),
    bad("rewrite-no-rules", REWRITE, "spec.rules", DELETE, "Required value"),
    bad("rewrite-no-targets", REWRITE, "spec.rules.0.targets", [], "at least 1 items"),
    bad("rewrite-weight-0", REWRITE, "spec.rules.0.targets.0.weight", 0, "greater than or"),
    bad("rewrite-weight-high", REWRITE, "spec.rules.0.targets.0.weight", 10**6 + 1, "less than"),
    bad("rewrite-match-type", REWRITE, "spec.rules.0.matches.0.model.type", "Prefix", '"Exact"'),
    bad("rewrite-match-empty", REWRITE, "spec.rules.0.matches.0.model.value", "", "at least 1"),
    bad("rewrite-match-no-model", REWRITE, "spec.rules.0.matches.0.model", DELETE, "Required"),
    bad("rewrite-no-rewrite", REWRITE, "spec.rules.1.targets.0.modelRewrite", DELETE, "Required"),
]  # fmt: skip


@pytest.mark.parametrize("obj", VALID.values(), ids=VALID.keys())
def test_valid_object(obj: dict[str, Any]) -> None:
    assert validate_object(obj) == []


@pytest.mark.parametrize(("obj", "field", "detail"), INVALID)
def test_invalid_object_names_the_field(obj: dict[str, Any], field: str, detail: str) -> None:
    (problem,) = validate_object(obj)
    assert problem.startswith(f"{field}: ")
    assert detail in problem


@pytest.mark.parametrize(
    "name",
    [
        "inferencepool.yaml",
        "inferencepool-v1alpha2.yaml",
        "inferenceobjective.yaml",
        "inferenceobjective-x-k8s.yaml",
        "inferencemodelrewrite.yaml",
    ],
)
def test_fixture_objects_are_valid(name: str) -> None:
    objects = load_fixture(name)
    assert objects
    assert [validate_object(obj) for obj in objects] == [[] for _ in objects]


def test_pod_fixture_has_members_of_the_pool_and_one_outsider() -> None:
    labels = POOL["spec"]["selector"]["matchLabels"]
    pods = load_fixture("pods.yaml")
    assert {(pod["apiVersion"], pod["kind"]) for pod in pods} == {("v1", "Pod")}
    members = [p for p in pods if labels.items() <= p["metadata"]["labels"].items()]
    assert len(members) == 3 and len(pods) == 4
    port = POOL["spec"]["targetPorts"][0]["number"]
    for pod in members:
        assert port in [p["containerPort"] for c in pod["spec"]["containers"] for p in c["ports"]]
