"""The CRDs in helm/gie/crds are well-formed apiextensions.k8s.io/v1 definitions of the APIs.

Names, versions, subresources and printer columns are compared with a table of what the
APIs declare upstream; every version's schema must be structural; defaults and the CEL
rules are checked where they are declared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml

from tests.support.crds import CEL_RULES, crd_files, load_crds
from tests.support.structural_schema import structural_problems

INFERENCE_POOL = "inference.networking.k8s.io"
INFERENCE_POOL_X = "inference.networking.x-k8s.io"
POOL_COLUMN = ("Inference Pool", "string", ".spec.poolRef.name")
PRIORITY_COLUMN = ("Priority", "string", ".spec.priority")
AGE_COLUMN = ("Age", "date", ".metadata.creationTimestamp")


@dataclass(frozen=True)
class Expected:
    group: str
    kind: str
    plural: str
    version: str
    short_names: list[str] = field(default_factory=list)
    columns: list[tuple[str, str, str]] = field(default_factory=list)
    deprecated: bool = False

    @property
    def name(self) -> str:
        return f"{self.plural}.{self.group}"


EXPECTED = [
    Expected(INFERENCE_POOL, "InferencePool", "inferencepools", "v1", ["infpool"]),
    Expected(
        INFERENCE_POOL_X, "InferencePool", "inferencepools", "v1alpha2", ["xinfpool"],
        deprecated=True,
    ),
    Expected(
        "llm-d.ai", "InferenceObjective", "inferenceobjectives", "v1alpha2",
        columns=[POOL_COLUMN, PRIORITY_COLUMN, AGE_COLUMN],
    ),
    Expected(
        INFERENCE_POOL_X, "InferenceObjective", "inferenceobjectives", "v1alpha2",
        columns=[POOL_COLUMN, PRIORITY_COLUMN, AGE_COLUMN],
    ),
    Expected(
        "llm-d.ai", "InferenceModelRewrite", "inferencemodelrewrites", "v1alpha2",
        columns=[POOL_COLUMN, AGE_COLUMN],
    ),
]  # fmt: skip
BY_NAME = {expected.name: expected for expected in EXPECTED}
CRDS = load_crds()


def _schema(name: str, version: str) -> dict[str, Any]:
    (served,) = [v for v in CRDS[name]["spec"]["versions"] if v["name"] == version]
    schema: dict[str, Any] = served["schema"]["openAPIV3Schema"]
    return schema


def _field(schema: dict[str, Any], dotted: str) -> dict[str, Any]:
    """The schema node at ``spec.a.b`` (``[]`` steps into array items)."""
    node = schema
    for step in dotted.split("."):
        node = node["items"] if step == "[]" else node["properties"][step]
    return node


def test_each_file_holds_one_expected_crd_named_after_it() -> None:
    for path in crd_files():
        (crd,) = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        assert path.name == f"{crd['metadata']['name']}.yaml"
    assert sorted(CRDS) == sorted(BY_NAME)


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: e.name)
def test_crd_names_versions_and_columns(expected: Expected) -> None:
    crd = CRDS[expected.name]
    assert (crd["apiVersion"], crd["kind"]) == (
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
    )
    spec = crd["spec"]
    assert (spec["group"], spec["scope"]) == (expected.group, "Namespaced")
    assert spec["names"] == {
        "kind": expected.kind,
        "listKind": f"{expected.kind}List",
        "plural": expected.plural,
        "singular": expected.kind.lower(),
        **({"shortNames": expected.short_names} if expected.short_names else {}),
    }
    (version,) = spec["versions"]
    assert (version["name"], version["served"], version["storage"]) == (
        expected.version,
        True,
        True,
    )
    assert version["subresources"] == {"status": {}}
    columns = [
        (c["name"], c["type"], c["jsonPath"]) for c in version.get("additionalPrinterColumns", [])
    ]
    assert columns == expected.columns
    assert version.get("deprecated", False) is expected.deprecated
    assert bool(version.get("deprecationWarning")) is expected.deprecated


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: e.name)
def test_schema_is_structural(expected: Expected) -> None:
    assert structural_problems(_schema(expected.name, expected.version), cel=CEL_RULES) == []


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: e.name)
def test_printer_columns_point_at_declared_fields(expected: Expected) -> None:
    schema = _schema(expected.name, expected.version)
    for _, kind, path in expected.columns:
        assert kind in {"integer", "number", "string", "boolean", "date"}
        if not path.startswith(".metadata."):
            assert "type" in _field(schema, path.removeprefix(".")), path


POOL_V1 = f"inferencepools.{INFERENCE_POOL}"
POOL_X = f"inferencepools.{INFERENCE_POOL_X}"
OBJECTIVE_X = f"inferenceobjectives.{INFERENCE_POOL_X}"
REWRITE = "inferencemodelrewrites.llm-d.ai"
PICKER = "spec.endpointPickerRef"


@pytest.mark.parametrize(
    ("name", "version", "path", "default"),
    [
        (POOL_V1, "v1", "spec.appProtocol", "http"),
        (POOL_V1, "v1", f"{PICKER}.failureMode", "FailClose"),
        (POOL_V1, "v1", f"{PICKER}.kind", "Service"),
        (POOL_V1, "v1", f"{PICKER}.group", ""),
        (POOL_V1, "v1", "status.parents.[].parentRef.kind", "Gateway"),
        (POOL_X, "v1alpha2", "spec.extensionRef.failureMode", "FailClose"),
        (POOL_X, "v1alpha2", "spec.extensionRef.kind", "Service"),
        ("inferenceobjectives.llm-d.ai", "v1alpha2", "spec.poolRef.group", INFERENCE_POOL),
        ("inferenceobjectives.llm-d.ai", "v1alpha2", "spec.poolRef.kind", "InferencePool"),
        (OBJECTIVE_X, "v1alpha2", "spec.poolRef.kind", "InferencePool"),
        (REWRITE, "v1alpha2", "spec.rules.[].matches.[].model.type", "Exact"),
    ],
    ids=str,
)  # fmt: skip
def test_defaults(name: str, version: str, path: str, default: str) -> None:
    assert _field(_schema(name, version), path)["default"] == default


def test_every_condition_list_has_one_schema() -> None:
    """Conditions are metav1.Condition everywhere; the five copies must not drift apart."""
    found: list[dict[str, Any]] = []

    def collect(node: dict[str, Any]) -> None:
        for name, child in node.get("properties", {}).items():
            if name == "conditions":
                found.append(child["items"])
            collect(child)
        if "items" in node:
            collect(node["items"])

    for expected in EXPECTED:
        collect(_schema(expected.name, expected.version))
    assert len(found) == len(EXPECTED)
    assert all(items == found[0] for items in found)


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: e.name)
def test_protected_groups_carry_an_api_approval(expected: Expected) -> None:
    """An API server refuses CRDs of *.k8s.io groups without an approved review."""
    annotations = CRDS[expected.name]["metadata"].get("annotations", {})
    approval = annotations.get("api-approved.kubernetes.io", "")
    protected = expected.group.endswith((".k8s.io", ".kubernetes.io"))
    protected = protected and not expected.group.endswith(".x-k8s.io")
    assert approval.startswith("https://") is protected


def test_every_cel_rule_has_an_evaluator() -> None:
    rules: set[str] = set()

    def collect(node: dict[str, Any]) -> None:
        rules.update(entry["rule"] for entry in node.get("x-kubernetes-validations", []))
        for child in node.get("properties", {}).values():
            collect(child)
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                collect(node[key])

    for expected in EXPECTED:
        collect(_schema(expected.name, expected.version))
    assert rules == set(CEL_RULES)
